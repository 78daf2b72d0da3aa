import { accessSync, constants, statSync } from 'node:fs';
import { UnavailableError } from '@forklift/contract';

/**
 * Debian's chromium binary. /usr/bin/chromium is a shell launcher in front of it that only adds
 * flags we override; starting the binary itself saves ~100 ms. Used unless FORKLIFT_CHROMIUM or an
 * option says otherwise; when it is missing, /usr/bin/chromium is tried.
 */
export const DEFAULT_CHROMIUM = '/usr/lib/chromium/chromium';
/** The launcher script of Debian's chromium package, the fallback when DEFAULT_CHROMIUM is missing. */
export const CHROMIUM_LAUNCHER = '/usr/bin/chromium';
/** Debian's chromedriver (package chromium-driver). */
export const DEFAULT_CHROMEDRIVER = '/usr/bin/chromedriver';
/** What to install when the browser or its driver is missing or does not start. */
export const APT_HINT = 'install it with: apt-get install chromium chromium-driver';

/** Where the browser and its driver are, and whether a display is needed (the part of LaunchOptions resolveBinaries reads). */
export interface BinaryOptions {
  /** Path of the chromium binary (default: $FORKLIFT_CHROMIUM, else /usr/lib/chromium/chromium, else /usr/bin/chromium). */
  chromiumPath?: string;
  /** Path of chromedriver (default: $FORKLIFT_CHROMEDRIVER, else /usr/bin/chromedriver). */
  driverPath?: string;
  /** Show the window (needs a DISPLAY); headless otherwise. */
  headed?: boolean;
  /** The environment: where FORKLIFT_CHROMIUM/FORKLIFT_CHROMEDRIVER/DISPLAY are read, and what the browser and driver run with (default process.env). */
  env?: Record<string, string | undefined>;
}

function isExecutable(path: string): boolean {
  try {
    if (!statSync(path).isFile()) return false;
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function checkExecutable(path: string, what: string, envName: string): void {
  if (!isExecutable(path))
    throw new UnavailableError(`${what} not found or not executable at ${path}: ${APT_HINT} (or set ${envName})`, { code: 'no-browser' });
}

/**
 * Resolve and check the browser and driver paths; throws UnavailableError (exit 69) with the apt command.
 * @example resolveBinaries({ env: process.env }) // { chromiumPath: '/usr/lib/chromium/chromium', driverPath: '/usr/bin/chromedriver' }
 */
export function resolveBinaries(options: BinaryOptions = {}): { chromiumPath: string; driverPath: string } {
  const env = options.env ?? process.env;
  const chromiumPath =
    options.chromiumPath ??
    env.FORKLIFT_CHROMIUM ??
    (isExecutable(DEFAULT_CHROMIUM) || !isExecutable(CHROMIUM_LAUNCHER) ? DEFAULT_CHROMIUM : CHROMIUM_LAUNCHER);
  const driverPath = options.driverPath ?? env.FORKLIFT_CHROMEDRIVER ?? DEFAULT_CHROMEDRIVER;
  checkExecutable(chromiumPath, 'chromium', 'FORKLIFT_CHROMIUM');
  checkExecutable(driverPath, 'chromedriver', 'FORKLIFT_CHROMEDRIVER');
  if (options.headed && !env.DISPLAY && !env.WAYLAND_DISPLAY) {
    throw new UnavailableError('--headed needs a display (DISPLAY or WAYLAND_DISPLAY is unset); run headless or start an X server', { code: 'no-display' });
  }
  return { chromiumPath, driverPath };
}
