/**
 * The `certificate` check: the ACM certificate the load balancer will serve is issued, in the stage's region, and names
 * the configured domain (wildcards as ACM matches them).
 * One concern of the preflight (checks.ts runs them all).
 */
import { type CheckResult, errorName, fail, type PreflightClients, type PreflightInput, pass, skipped } from './common';

/**
 * Whether a certificate name covers a host. ACM wildcard names cover exactly one label: `*.example.com` covers
 * `app.example.com`, not `example.com` nor `a.b.example.com`
 * (https://docs.aws.amazon.com/acm/latest/userguide/acm-certificate.html, "Wildcard names").
 */
export function nameCovers(certName: string, host: string): boolean {
  const name = certName.toLowerCase().replace(/\.$/, '');
  const target = host.toLowerCase().replace(/\.$/, '');
  if (!name.startsWith('*.')) return name === target;
  const dot = target.indexOf('.');
  return dot > 0 && target.slice(dot + 1) === name.slice(2);
}

/** ACM certificate statuses (DescribeCertificate `Status`) and what to do about each that is not ISSUED. */
const CERTIFICATE_FIX: Readonly<Record<string, string>> = {
  PENDING_VALIDATION: 'complete its validation (the DNS CNAME records ACM lists for it), then retry',
  INACTIVE: 'use an active certificate (an imported one may need re-importing)',
  EXPIRED: 'renew or re-import it, or request a new one and pass its ARN',
  VALIDATION_TIMED_OUT: 'request a new certificate and validate it within 72 hours',
  REVOKED: 'request a new certificate and pass its ARN',
  FAILED: 'request a new certificate (see its FailureReason) and pass its ARN',
};

/** arn:<partition>:acm:<region>:<account>:certificate/<id> → region. */
function arnRegion(arn: string): string {
  return arn.split(':')[3] ?? '';
}

export async function checkCertificate(c: PreflightClients, input: PreflightInput): Promise<CheckResult> {
  const id = 'certificate';
  const cert = input.config.certificate;
  if (cert.kind === 'create') {
    return skipped(
      id,
      `the Service stack requests a DNS-validated certificate for ${cert.domainName} in zone ${cert.zoneName}`,
    );
  }
  if (cert.placeholder) {
    return fail(
      id,
      'no certificate configured: the placeholder ARN would fail the HTTPS listener',
      `pass -c certificateArn=arn:aws:acm:${input.region}:… -c domainName=<host>, or -c domainName -c hostedZoneId -c zoneName to create one`,
    );
  }
  const domain = input.config.domainName ?? '';
  const certRegion = arnRegion(cert.arn);
  if (certRegion !== input.region) {
    return fail(
      id,
      `the certificate is in ${certRegion}, the load balancer in ${input.region}: an ALB takes certificates of its own region only`,
      `request or import a certificate for ${domain} in ${input.region} and pass its ARN as -c certificateArn=…`,
    );
  }
  const { DescribeCertificateCommand } = await import('@aws-sdk/client-acm');
  let certificate: NonNullable<import('@aws-sdk/client-acm').DescribeCertificateCommandOutput['Certificate']>;
  try {
    const out = await c.acm.send(new DescribeCertificateCommand({ CertificateArn: cert.arn }));
    if (!out.Certificate) throw new Error('DescribeCertificate returned no certificate');
    certificate = out.Certificate;
  } catch (error) {
    if (errorName(error) !== 'ResourceNotFoundException') throw error;
    return fail(
      id,
      `no certificate ${cert.arn} in this account`,
      'check certificateArn and the AWS account (--profile)',
    );
  }
  const status = certificate.Status ?? 'UNKNOWN';
  if (status !== 'ISSUED') {
    const reason = certificate.FailureReason ? ` (${certificate.FailureReason})` : '';
    return fail(id, `the certificate is ${status}${reason}`, CERTIFICATE_FIX[status] ?? 'use an ISSUED certificate');
  }
  const names = [...new Set([certificate.DomainName, ...(certificate.SubjectAlternativeNames ?? [])])].filter(
    (n): n is string => typeof n === 'string',
  );
  if (!names.some((name) => nameCovers(name, domain))) {
    return fail(
      id,
      `the certificate names ${names.join(', ')}, none of which covers ${domain} (a wildcard covers one label)`,
      `use a certificate for ${domain} (or *.${domain.slice(domain.indexOf('.') + 1)}), or fix domainName`,
    );
  }
  const until = certificate.NotAfter ? `, valid until ${certificate.NotAfter.toISOString().slice(0, 10)}` : '';
  return pass(id, `ISSUED in ${input.region} for ${names.join(', ')}: covers ${domain}${until}`);
}
