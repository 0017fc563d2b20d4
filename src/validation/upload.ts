/**
 * An upload → a VersionSpec. Two shapes: one ES module as the whole body (`Content-Type:
 * application/javascript`), or Cloudflare's script upload (`multipart/form-data` with a `metadata` JSON
 * part and one part per module). Nothing here runs code; compiling is the executor's job.
 */
import { IsolaneError } from '../errors.ts';
import { DEFAULT_LIMITS, type ModuleType, type VersionSpec, type WorkerModule } from '../types.ts';
import { parseMetadata } from './metadata.ts';
import { checkModuleName } from './module-name.ts';

export interface ParsedUpload {
  spec: VersionSpec;
  /** Routes the metadata asks for; null when it names none. */
  routes: string[] | null;
}

const JAVASCRIPT = /^(?:application|text)\/(?:javascript|ecmascript|x-javascript)(?:\+module)?$/;
const MAX_MODULES = 1000;
/** The module name a single-file upload gets. */
export const SINGLE_FILE_NAME = 'worker.js';

export async function parseUpload(contentType: string | undefined, body: Uint8Array, maxBytes: number): Promise<ParsedUpload> {
  if (body.byteLength > maxBytes) throw new IsolaneError('ISO_ERR_DEPLOY_TOO_LARGE', `the upload is ${body.byteLength} bytes; the limit is ${maxBytes}`);
  const mediaType = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  if (JAVASCRIPT.test(mediaType)) {
    if (body.byteLength === 0) throw new IsolaneError('ISO_ERR_DEPLOY_SYNTAX', 'the script is empty');
    return {
      spec: {
        syntax: 'module',
        main: SINGLE_FILE_NAME,
        modules: [{ name: SINGLE_FILE_NAME, type: 'esm', content: decodeUtf8(body, SINGLE_FILE_NAME) }],
        bindings: [],
        compatibilityDate: null,
        limits: { ...DEFAULT_LIMITS },
      },
      routes: null,
    };
  }
  if (mediaType === 'multipart/form-data') return parseMultipart(contentType!, body, maxBytes);
  throw new IsolaneError('ISO_ERR_DEPLOY_CONTENT_TYPE', `unsupported Content-Type ${JSON.stringify(mediaType || '(none)')}: send application/javascript (one module) or multipart/form-data (metadata + modules)`);
}

async function parseMultipart(contentType: string, body: Uint8Array, maxBytes: number): Promise<ParsedUpload> {
  let form: FormData;
  try {
    form = await new Response(body, { headers: { 'content-type': contentType } }).formData();
  } catch (err) {
    throw new IsolaneError('ISO_ERR_DEPLOY_MULTIPART', `malformed multipart body: ${(err as Error).message}`);
  }
  const metadataPart = form.get('metadata');
  if (metadataPart === null) throw new IsolaneError('ISO_ERR_DEPLOY_METADATA', 'the multipart body has no "metadata" part');
  const metadata = parseMetadata(typeof metadataPart === 'string' ? metadataPart : await metadataPart.text());

  const modules: WorkerModule[] = [];
  const seen = new Set<string>();
  let total = 0;
  for (const [field, value] of form.entries()) {
    if (field === 'metadata') continue;
    if (modules.length >= MAX_MODULES) throw new IsolaneError('ISO_ERR_DEPLOY_TOO_LARGE', `more than ${MAX_MODULES} modules`);
    const name = checkModuleName(field);
    if (seen.has(name)) throw new IsolaneError('ISO_ERR_DEPLOY_MODULE_NAME', `module ${JSON.stringify(name)} is uploaded twice`, { details: { module: name } });
    seen.add(name);
    const bytes = typeof value === 'string' ? new TextEncoder().encode(value) : new Uint8Array(await value.arrayBuffer());
    total += bytes.byteLength;
    if (total > maxBytes) throw new IsolaneError('ISO_ERR_DEPLOY_TOO_LARGE', `the modules add up to more than ${maxBytes} bytes`);
    const type = moduleType(name, typeof value === 'string' ? '' : value.type);
    const content = type === 'data' ? Buffer.from(bytes).toString('base64') : decodeUtf8(bytes, name);
    if (type === 'json') checkJson(name, content);
    modules.push({ name, type, content });
  }
  if (modules.length === 0) throw new IsolaneError('ISO_ERR_DEPLOY_MODULE_MISSING', 'the upload has no module parts');

  const syntax = metadata.mainModule ? 'module' : 'service-worker';
  const main = checkModuleName((metadata.mainModule ?? metadata.bodyPart)!);
  const mainModule = modules.find((m) => m.name === main);
  if (!mainModule) {
    throw new IsolaneError('ISO_ERR_DEPLOY_MODULE_MISSING', `${syntax === 'module' ? 'main_module' : 'body_part'} ${JSON.stringify(main)} is not among the uploaded parts (${modules.map((m) => m.name).join(', ')})`, { details: { module: main } });
  }
  if (mainModule.type !== 'esm') throw new IsolaneError('ISO_ERR_DEPLOY_METADATA', `the main module ${JSON.stringify(main)} must be JavaScript`);
  return {
    spec: {
      syntax,
      main,
      modules,
      bindings: metadata.bindings,
      compatibilityDate: metadata.compatibilityDate,
      limits: metadata.limits,
      ...(metadata.fetchAllow.length > 0 ? { fetchAllow: metadata.fetchAllow } : {}),
      ...(metadata.compatibilityFlags.length > 0 ? { compatibilityFlags: metadata.compatibilityFlags } : {}),
    },
    routes: metadata.routes,
  };
}

/** The part's Content-Type decides, as in Cloudflare's upload; an untyped part goes by its extension. */
function moduleType(name: string, contentType: string): ModuleType {
  const type = contentType.split(';')[0]!.trim().toLowerCase();
  if (JAVASCRIPT.test(type)) return 'esm';
  if (type === 'text/plain') return 'text';
  if (type === 'application/json') return 'json';
  if (type === 'application/wasm' || name.endsWith('.wasm')) {
    throw new IsolaneError('ISO_ERR_DEPLOY_MODULE_NAME', `module ${JSON.stringify(name)}: WebAssembly modules are not supported (their memory would escape the isolate's limit)`, { details: { module: name } });
  }
  if (type === '' || type === 'application/octet-stream') {
    if (/\.(?:m?js)$/.test(name)) return 'esm';
    if (name.endsWith('.json')) return 'json';
    if (name.endsWith('.txt') || name.endsWith('.html') || name.endsWith('.css')) return 'text';
    return 'data';
  }
  throw new IsolaneError('ISO_ERR_DEPLOY_MODULE_NAME', `module ${JSON.stringify(name)} has unsupported Content-Type ${JSON.stringify(type)}`, { details: { module: name } });
}

function decodeUtf8(bytes: Uint8Array, name: string): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new IsolaneError('ISO_ERR_DEPLOY_SYNTAX', `module ${JSON.stringify(name)} is not valid UTF-8`, { details: { module: name } });
  }
}

function checkJson(name: string, text: string): void {
  try {
    JSON.parse(text);
  } catch (err) {
    throw new IsolaneError('ISO_ERR_DEPLOY_SYNTAX', `module ${JSON.stringify(name)} is not valid JSON: ${(err as Error).message}`, { details: { module: name } });
  }
}
