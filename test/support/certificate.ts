// A self-signed certificate generated for a test (openssl, EC P-256, valid one day).
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

export interface Certificate {
  /** PEM file paths. */
  certPath: string;
  keyPath: string;
}

/** Writes `<name>.crt` and `<name>.key` into `directory`, valid for each IP address and DNS name in `names`. */
export function generateCertificate(directory: string, names: string[], name = 'server'): Certificate {
  const [certPath, keyPath] = [join(directory, `${name}.crt`), join(directory, `${name}.key`)];
  const altNames = names.map((entry) => (/^[\d.]+$|:/.test(entry) ? `IP:${entry}` : `DNS:${entry}`)).join(',');
  // prettier-ignore
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1',
    '-subj', `/CN=${names[0]}`, '-addext', `subjectAltName=${altNames}`, '-keyout', keyPath, '-out', certPath,
  ], { stdio: 'ignore' });
  return { certPath, keyPath };
}
