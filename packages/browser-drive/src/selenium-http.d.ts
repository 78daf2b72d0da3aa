// selenium-webdriver has no "exports" map: the runtime path is http/index.js, typed as 'selenium-webdriver/http'
declare module 'selenium-webdriver/http/index.js' {
  import * as http from 'selenium-webdriver/http';
  export = http;
}
