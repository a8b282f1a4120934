export { DEFAULT_MAX_UPLOAD_BYTES, isLoopbackHost, startE2bServer, type E2bServer, type E2bServerOptions } from './server.ts';
export { ENVD_VERSION } from './control-plane.ts';
