/**
 * `npm run diagram`: synthesizes the app offline (`cdk synth -q -c stage=prod`), draws its main resources and the
 * edges their properties prove (scripts/diagram/graph.ts), and renders docs/architecture.{dot,svg,png} with Graphviz.
 *
 *   npm run diagram                          synthesize prod, write docs/architecture.*
 *   npm run diagram -- --stage dev           another stage
 *   npm run diagram -- --from cdk.out        draw an existing cloud assembly, no synth
 *
 * Exit codes: 0 written, 1 synth or rendering failed, 2 Graphviz missing or bad usage.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { buildGraph, type CfnTemplate, diagramTitle, type StackTemplate, toDot } from './diagram/graph';

const ROOT = join(__dirname, '..');
const OUT = join(ROOT, 'docs', 'architecture');
const INSTALL_HINT = 'sudo apt-get install -y graphviz   (Debian/Ubuntu; macOS: brew install graphviz)';

interface Manifest {
  readonly artifacts?: Record<string, { type: string; properties?: { templateFile?: string } }>;
}

function fail(code: number, message: string): never {
  process.stderr.write(`diagram: ${message}\n`);
  process.exit(code);
}

function parseArgs(argv: readonly string[]): { stage: string; from?: string } {
  let stage = 'prod';
  let from: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--stage' && argv[i + 1]) stage = argv[++i]!;
    else if (arg === '--from' && argv[i + 1]) from = resolve(argv[++i]!);
    else fail(2, `unknown argument ${arg} (use --stage <stage> or --from <cloud assembly directory>)`);
  }
  if (!/^[a-z]+$/.test(stage)) fail(2, `--stage ${stage}: expected a stage name such as dev or prod`);
  return from === undefined ? { stage } : { stage, from };
}

/** The templates of every stack in a cloud assembly, in the manifest's order. */
export function readAssembly(dir: string): StackTemplate[] {
  const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as Manifest;
  return Object.entries(manifest.artifacts ?? {})
    .filter(([, a]) => a.type === 'aws:cloudformation:stack' && a.properties?.templateFile)
    .map(([stackName, a]) => ({
      stackName,
      template: JSON.parse(readFileSync(join(dir, a.properties!.templateFile!), 'utf8')) as CfnTemplate,
    }));
}

function main(): void {
  const args = parseArgs(process.argv.slice(2));
  const dot = spawnSync('dot', ['-V'], { encoding: 'utf8' });
  if (dot.error) fail(2, `Graphviz \`dot\` is not installed. Install it with:\n  ${INSTALL_HINT}`);

  let assembly = args.from;
  let scratch: string | undefined;
  if (assembly === undefined) {
    scratch = mkdtempSync(join(tmpdir(), 'sf-diagram-'));
    assembly = scratch;
    process.stderr.write(`diagram: npx cdk synth -q -c stage=${args.stage} (offline)\n`);
    const synth = spawnSync('npx', ['cdk', 'synth', '-q', '-c', `stage=${args.stage}`, '-o', scratch], {
      cwd: ROOT,
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    if (synth.status !== 0) fail(1, `cdk synth failed (exit ${synth.status ?? synth.signal})`);
  }
  try {
    const stacks = readAssembly(assembly);
    if (stacks.length === 0) fail(1, `no stacks in ${assembly}`);
    const graph = buildGraph(stacks);
    writeFileSync(`${OUT}.dot`, toDot(graph, diagramTitle(args.stage)));
    for (const [format, extra] of [
      ['svg', []],
      ['png', ['-Gdpi=110']],
    ] as const) {
      const render = spawnSync('dot', [`-T${format}`, ...extra, '-o', `${OUT}.${format}`, `${OUT}.dot`], {
        encoding: 'utf8',
      });
      if (render.status !== 0) fail(1, `dot -T${format} failed: ${render.stderr}`);
      if (render.stderr.trim() !== '') process.stderr.write(render.stderr);
    }
    process.stdout.write(
      `diagram: ${graph.nodes.length} nodes, ${graph.edges.length} edges → docs/architecture.{dot,svg,png}\n`,
    );
  } finally {
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  }
}

if (require.main === module) main();
