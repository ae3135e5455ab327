/**
 * A suite result as JUnit XML, the report format CI systems read (GitLab `artifacts:reports:junit`, Jenkins, GitHub
 * test-report actions): one <testsuite>, one <testcase> per check, <failure> or <skipped> inside. CLI-only: the Lambda
 * never imports this file.
 *
 * Shape: the de-facto JUnit schema (testsuites > testsuite > testcase > failure | skipped, counts and `time` in
 * seconds on the suite), as documented by GitLab (https://docs.gitlab.com/ci/testing/unit_test_reports/) and by
 * the Ant/Jenkins JUnit XSD. Every text and attribute is escaped, and characters XML 1.0 cannot carry are replaced.
 */
import type { CheckResult, SuiteResult } from './engine';

export interface JunitOptions {
  /** When the suite ran (the testsuite's timestamp). */
  readonly timestamp: Date;
}

export function renderJunit(result: SuiteResult, options: JunitOptions): string {
  const count = (verdict: CheckResult['verdict']) => result.checks.filter((c) => c.verdict === verdict).length;
  const totals = {
    tests: result.checks.length,
    failures: count('fail'),
    errors: 0,
    skipped: count('skipped'),
    time: seconds(result.durationMs),
  };
  const suiteName = `sfdeploy smoke ${result.target}`;
  const lines = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites${attributes({ name: 'sfdeploy smoke', ...totals })}>`,
    `  <testsuite${attributes({
      name: suiteName,
      ...totals,
      // xs:dateTime without a zone, as the JUnit XSD has it; the value is UTC.
      timestamp: options.timestamp.toISOString().slice(0, 19),
    })}>`,
    '    <properties>',
    `      <property${attributes({ name: 'target', value: result.target })}/>`,
    ...(result.connectedTo ? [`      <property${attributes({ name: 'connectTo', value: result.connectedTo })}/>`] : []),
    '    </properties>',
  ];
  for (const check of result.checks) {
    const testcase = attributes({
      classname: 'sfdeploy.smoke',
      name: `${check.id}: ${check.method} ${check.path}`,
      time: seconds(check.latencyMs ?? 0),
    });
    if (check.verdict === 'pass') {
      lines.push(`    <testcase${testcase}/>`);
    } else if (check.verdict === 'skipped') {
      lines.push(`    <testcase${testcase}>`, `      <skipped${attributes({ message: check.reason ?? '' })}/>`);
      lines.push('    </testcase>');
    } else {
      const detail = [
        check.title,
        `${check.method} ${check.path}`,
        `status: ${check.status ?? 'no response'}`,
        ...(check.contentType ? [`content-type: ${check.contentType}`] : []),
        `attempts: ${check.attempts}`,
        ...(check.excerpt ? [`body: ${check.excerpt}`] : []),
      ].join('\n');
      lines.push(
        `    <testcase${testcase}>`,
        `      <failure${attributes({ message: check.reason ?? 'failed', type: check.failureKind ?? 'assertion' })}>${text(detail)}</failure>`,
        '    </testcase>',
      );
    }
  }
  lines.push('  </testsuite>', '</testsuites>', '');
  return lines.join('\n');
}

function seconds(ms: number): string {
  return (ms / 1000).toFixed(3);
}

function attributes(values: Readonly<Record<string, string | number>>): string {
  return Object.entries(values)
    .map(([name, value]) => ` ${name}="${attribute(String(value))}"`)
    .join('');
}

/**
 * Characters XML 1.0 does not allow anywhere, even escaped (https://www.w3.org/TR/xml/#charsets): C0 controls other
 * than tab, LF and CR, lone surrogates, U+FFFE and U+FFFF. A response excerpt may contain any of them.
 */
const NOT_XML =
  // biome-ignore lint/suspicious/noControlCharactersInRegex: matching the control characters XML forbids is the point
  /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

function text(value: string): string {
  return value.replace(NOT_XML, '\uFFFD').replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Also escapes quotes, and tab/CR/LF, which attribute-value normalisation would otherwise turn into spaces. */
function attribute(value: string): string {
  return text(value)
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;')
    .replace(/\t/g, '&#9;')
    .replace(/\n/g, '&#10;')
    .replace(/\r/g, '&#13;');
}
