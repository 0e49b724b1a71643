/**
 * Go's string order (byte-wise on UTF-8, which matches UTF-16 code-unit order for the ASCII names
 * that Envoy and Kubernetes use), for sorts that must match istioctl's, never locale-dependent.
 */
export const byteCompare = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0)
