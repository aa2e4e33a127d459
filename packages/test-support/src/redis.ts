// A real redis-server on loopback, a cuttable TCP proxy in front of it, and replicas in their own processes.
export { freePort, startRedis, type TestRedis } from './redis-server.js';
export { startTcpProxy, type TcpProxy } from './tcp-proxy.js';
export { Replica, type Reply } from './replica-process.js';
