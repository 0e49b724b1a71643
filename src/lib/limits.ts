/**
 * The cap on every body meshdbg reads (admin and API answers, pod logs, stdin, -f files): larger
 * ones are refused, fast, with exit 6 (V8 strings stop near 512 MB). A module of its own, with no
 * imports, so offline commands can use it without loading the HTTP client.
 */
export const DEFAULT_MAX_BYTES = 256 * 1024 * 1024
