// The demo agent prints what it does; handle tokens and API keys in its output are shortened
// wherever they come from (its own lines, SDK error messages), so a log or screenshot is safe.

/** `tht_ab12…`: enough to tell tokens apart in a log, not enough to use one. */
export function shortToken(token: string): string {
  return token.length > 8 ? `${token.slice(0, 8)}…` : token;
}

/** Shortens every handle token (`tht_…`) and API key (`tth_…`) in a line. */
export function redactTokens(line: string): string {
  return line.replace(/\b(?:tht|tth)_[A-Za-z0-9_-]{5,}/g, (t) => shortToken(t));
}
