import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { describe, it } from 'node:test';
import { targetConnection } from '../../bin/commands/migrate';

describe('sfdeploy migrate --pg-url TLS', () => {
  it('verifies TLS against the public roots plus the Amazon RDS CAs when the URL asks for TLS', () => {
    const config = targetConnection(
      'postgresql://u:p@db.abc.eu-west-1.rds.amazonaws.com:5432/softfactory?sslmode=verify-full',
    );
    assert.equal(config.connectionString, 'postgresql://u:p@db.abc.eu-west-1.rds.amazonaws.com:5432/softfactory');
    const ssl = config.ssl as { ca: string[]; rejectUnauthorized: boolean };
    assert.equal(ssl.rejectUnauthorized, true);
    const subjects = ssl.ca.map((pem) => new X509Certificate(pem).subject);
    assert.ok(subjects.some((s) => s.includes('Amazon RDS eu-west-1 Root CA RSA2048 G1')));
    assert.ok(subjects.some((s) => s.includes('Amazon Root CA 1') || s.includes('ISRG Root X1')));
  });

  it('leaves a URL without sslmode (or with sslmode=disable) as it is', () => {
    assert.deepEqual(targetConnection('postgres://u:p@localhost:5432/db'), {
      connectionString: 'postgres://u:p@localhost:5432/db',
    });
    assert.deepEqual(targetConnection('postgres://u:p@localhost/db?sslmode=disable'), {
      connectionString: 'postgres://u:p@localhost/db?sslmode=disable',
    });
  });
});
