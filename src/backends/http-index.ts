export type {
  HttpAvailability,
  HttpContext,
  HttpEvent,
  HttpMachineInput,
  HttpProbeOutput,
} from '../../machines/http.machine.js';
export { httpMachine } from '../../machines/http.machine.js';
export {
  createHttpBackend,
  type FetchLike,
  type HttpBackend,
  type HttpBackendLogger,
  type HttpBackendOptions,
  type HttpBreakerOptions,
  type HttpJsonRequestInit,
  type HttpRequestInit,
  type HttpResponse,
  type HttpRetryOptions,
  parseRetryAfter,
} from './http.js';
export {
  HttpBackendStoppedError,
  HttpInvalidJsonError,
  HttpNetworkError,
  HttpStatusError,
  HttpTimeoutError,
  isTransientStatus,
  redactPath,
} from './http-errors.js';
