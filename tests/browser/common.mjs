// What every browser script shares: its settings from the environment, and checks that
// stop the walk with the reason on the first failure.

/** The environment variable `name`, which the Rust test sets; throws when it is missing. */
export function need(name) {
  const v = process.env[name];
  if (!v) throw new Error(`environment variable ${name} is not set`);
  return v;
}

/** Throws `check failed: what` unless `condition` holds. */
export function check(condition, what) {
  if (!condition) throw new Error(`check failed: ${what}`);
}

/** Debian's Chromium, or the one `CHROMIUM` names. */
export const executablePath = process.env.CHROMIUM || "/usr/bin/chromium";
