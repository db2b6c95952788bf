import { probeBrowser, type ProbeOptions } from '../../../src/browser/probe-browser.js';

self.onmessage = async (event: MessageEvent<ProbeOptions>) => {
  self.postMessage(await probeBrowser(event.data));
};
