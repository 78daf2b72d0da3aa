import { Key } from 'selenium-webdriver/lib/input.js';

const NAMED: Record<string, string> = {
  enter: Key.ENTER,
  return: Key.RETURN,
  tab: Key.TAB,
  escape: Key.ESCAPE,
  esc: Key.ESCAPE,
  backspace: Key.BACK_SPACE,
  delete: Key.DELETE,
  space: Key.SPACE,
  arrowup: Key.ARROW_UP,
  arrowdown: Key.ARROW_DOWN,
  arrowleft: Key.ARROW_LEFT,
  arrowright: Key.ARROW_RIGHT,
  up: Key.ARROW_UP,
  down: Key.ARROW_DOWN,
  left: Key.ARROW_LEFT,
  right: Key.ARROW_RIGHT,
  home: Key.HOME,
  end: Key.END,
  pageup: Key.PAGE_UP,
  pagedown: Key.PAGE_DOWN,
  insert: Key.INSERT,
  control: Key.CONTROL,
  ctrl: Key.CONTROL,
  shift: Key.SHIFT,
  alt: Key.ALT,
  meta: Key.META,
  command: Key.COMMAND,
  f1: Key.F1,
  f2: Key.F2,
  f3: Key.F3,
  f4: Key.F4,
  f5: Key.F5,
  f6: Key.F6,
  f7: Key.F7,
  f8: Key.F8,
  f9: Key.F9,
  f10: Key.F10,
  f11: Key.F11,
  f12: Key.F12,
};

/** Whether a word names a key (`Enter`, `Tab`, `ArrowDown`, `Control` ..., case-insensitive). */
export function isKeyName(word: string): boolean {
  return Object.prototype.hasOwnProperty.call(NAMED, word.toLowerCase());
}

/**
 * The WebDriver key sequence of one press item: a key name (`Enter`), a chord of key names and one
 * last key (`Control+a`, `Shift+Tab`), or else literal text typed as is.
 * @example keySequence('Control+a') // Key.chord(Key.CONTROL, 'a')
 */
export function keySequence(item: string): string {
  if (isKeyName(item)) return NAMED[item.toLowerCase()];
  const parts = item.split('+');
  if (parts.length > 1 && parts.every((part) => part !== '') && parts.slice(0, -1).every(isKeyName)) {
    const last = parts[parts.length - 1];
    return Key.chord(...parts.slice(0, -1).map((part) => NAMED[part.toLowerCase()]), isKeyName(last) ? NAMED[last.toLowerCase()] : last);
  }
  return item;
}
