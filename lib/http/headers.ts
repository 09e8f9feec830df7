/**
 * Headers that every service sends and reads alike: the server side (lib/http/app.ts) and the
 * client side (lib/service-client.ts) both take them from here, so neither imports the other.
 */

/** A request's id: taken from the caller when it sends a valid one, made up otherwise, and passed on to every service it calls. */
export const REQUEST_ID_HEADER = 'x-request-id';
