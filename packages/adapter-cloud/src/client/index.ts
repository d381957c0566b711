export * from './connect.js';
export * from './http-transport.js';
export * from './websocket-transport.js';
