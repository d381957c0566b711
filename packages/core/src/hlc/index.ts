export * from './hlc.js';
export * from './site-id.js';
