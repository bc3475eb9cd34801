// The guard moved to the platform, where the booking service's internal API uses it too.
export { INTERNAL_TOKEN_HEADER, INTERNAL_TOKEN_SCHEME, internalTokenGuard } from '@ticketing/platform';
