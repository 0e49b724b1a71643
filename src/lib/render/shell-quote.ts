/**
 * Commands meshdbg suggests (`explain`'s "Next:") are meant to be copied into a shell, and their
 * arguments come from access-log lines, which anyone who can send a request can shape. Every such
 * argument goes through `shellArg`, so `$(...)`, backticks, quotes, `;` and spaces stay one literal
 * word.
 */

/** POSIX single-quoting: plain words stay as they are, anything else is one '...' word. */
export function shellQuote(text: string): string {
  if (/^[\w.,:/@=+-]+$/.test(text)) return text
  return `'${text.replace(/'/g, "'\\''")}'`
}

/**
 * An argument taken from data. Quoting cannot stop a value that starts with '-' from being read as
 * an option (`--kubeconfig=/tmp/x`), and no Kubernetes name, FQDN, cluster name or request ID
 * starts with one: such a value, or an empty one, gives the placeholder (`<pod>`) to fill in.
 */
export function shellArg(value: string, placeholder: string): string {
  return value === '' || value.startsWith('-') ? placeholder : shellQuote(value)
}
