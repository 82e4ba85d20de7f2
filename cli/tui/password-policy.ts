/**
 * What the first-boot wizard accepts as an admin password: the appliance is
 * reachable over the management network from the moment it is committed, so
 * empty, short, single-class and well-known passwords are refused.
 */
const COMMON = ['password', 'admin', 'administrator', 'root', 'toor', 'changeme', 'letmein', 'welcome', 'qwerty', '12345678', '123456789', 'default', 'secret', 'vcn'];

/** Why a password is weak, or undefined when it is acceptable. */
export function passwordProblem(password: string, user = 'admin'): string | undefined {
  if (!password) return 'the password is empty';
  if (password.length < 10) return 'use at least 10 characters';
  const lower = password.toLowerCase();
  if (lower.includes(user.toLowerCase())) return 'the password must not contain the user name';
  if (COMMON.some((w) => lower.replace(/[^a-z0-9]/g, '').startsWith(w) && lower.length < w.length + 4)) return 'that is a well-known password';
  const classes = [/[a-z]/, /[A-Z]/, /[0-9]/, /[^A-Za-z0-9]/].filter((r) => r.test(password)).length;
  if (classes < 3) return 'mix at least three of: lower case, upper case, digits, symbols';
  if (/^(.)\1+$/.test(password) || new Set(password).size < 5) return 'too few different characters';
  return undefined;
}
