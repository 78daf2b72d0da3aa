import { type Agent, request as httpRequest } from 'node:http';
import type { WebDriver } from 'selenium-webdriver';

/** A W3C New Session request; resolves to the session id and capabilities, rejects with the driver's message. */
function newSession(port: number, alwaysMatch: Record<string, unknown>, agent: Agent): Promise<{ sessionId: string; capabilities: Record<string, unknown> }> {
  const body = JSON.stringify({ capabilities: { alwaysMatch, firstMatch: [{}] } });
  return new Promise((resolve, reject) => {
    const request = httpRequest(
      {
        host: '127.0.0.1',
        port,
        path: '/session',
        method: 'POST',
        agent,
        headers: { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body) },
      },
      (response) => {
        let text = '';
        response.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
        response.on('end', () => {
          let value: { sessionId?: string; capabilities?: Record<string, unknown>; error?: string; message?: string } | undefined;
          try {
            value = (JSON.parse(text) as { value?: typeof value }).value;
          } catch {
            // not JSON: reported below
          }
          if (response.statusCode === 200 && typeof value?.sessionId === 'string')
            resolve({ sessionId: value.sessionId, capabilities: value.capabilities ?? {} });
          else reject(new Error(`chromedriver refused the session (HTTP ${response.statusCode}): ${value?.message ?? text.slice(0, 200)}`));
        });
      },
    );
    request.on('error', reject);
    request.end(body);
  });
}

/**
 * Attach a WebDriver session of the driver on `driverPort` to the browser whose DevTools listen on
 * `devToolsPort`. The session is created with a plain W3C New Session request to the driver we
 * started, so selenium's driver finder (Selenium Manager) never runs. `browserDied` ends the wait
 * when the browser exits first.
 */
export async function attachWebDriver(driverPort: number, devToolsPort: number, agent: Agent, browserDied: Promise<never>): Promise<WebDriver> {
  // The request goes out at once; selenium's modules (~150 ms of CPU) load while the driver
  // attaches, not while chromium starts.
  const creating = newSession(driverPort, { browserName: 'chrome', 'goog:chromeOptions': { debuggerAddress: `127.0.0.1:${devToolsPort}` } }, agent);
  creating.catch(() => undefined);
  const [{ WebDriver, Session, Capabilities }, { default: http }] = await Promise.all([
    import('selenium-webdriver'),
    import('selenium-webdriver/http/index.js'),
  ]);
  const created = await Promise.race([creating, browserDied]);
  const executor = new http.Executor(new http.HttpClient(`http://127.0.0.1:${driverPort}`, agent));
  return new WebDriver(new Session(created.sessionId, new Capabilities(new Map(Object.entries(created.capabilities)))), executor);
}
