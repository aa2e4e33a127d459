/**
 * @agentid/sidecar: a drop-in, fail-closed replacement for Microsoft's Entra SDK for AgentID
 * sidecar, on agentid's broker (shared Redis cache, single-flight), for apps in any language.
 * @packageDocumentation
 */
export { loadSidecarConfig, stripJsonComments } from './config.js';
export type { AllowOverrides, DownstreamApiProfile, LoadConfigOptions, SidecarConfig } from './config.js';
export { createSidecar } from './sidecar.js';
export { isLoopback, isLoopbackHost } from './local.js';
export type { Sidecar, SidecarOptions } from './sidecar.js';
export { downstreamUrl, parseRequest } from './request.js';
export type { ParsedRequest, RouteName } from './request.js';
export { problem } from './problem.js';
export type { Problem } from './problem.js';
export { SIDECAR_USAGE, startSidecarFromArgs } from './cli.js';
export type { SidecarIo } from './cli.js';
