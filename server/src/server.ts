#!/usr/bin/env node
/**
 * The language server: the thin protocol edge around the engine. Started as
 * `node server/out/server.js --stdio` (any editor) or over IPC by the VS Code client.
 */
import {
  createConnection,
  DidChangeConfigurationNotification,
  DidChangeWatchedFilesNotification,
  FileChangeType,
  LSPErrorCodes,
  MessageType,
  ShowMessageNotification,
  ProposedFeatures,
  TextDocuments,
  TextDocumentSyncKind,
  type InitializeParams,
  type WorkspaceFolder,
} from 'vscode-languageserver/node';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { URI } from 'vscode-uri';
import { Engine, fileParseSteps, parseSeverityOverrides, type EngineSettings } from './core/engine';
import { runInSlices } from './core/steps';
import { LineIndex } from './core/lineIndex';
import { checkEphemeralRanges, checkHosts } from './core/settings';
import { DEFAULT_EPHEMERAL_RANGES, parseEphemeralRanges } from './core/portRanges';
import type { FolderHosts } from './core/hosts';
import { createFormatModules, detectFormat } from './formats/index';
import { toDiagnostic } from './features/diagnostics';
import { FEATURES, featureCapabilities } from './features/index';
import { RULES } from './rules/index';
import type { FeatureOptions, ServerContext } from './features/feature';
import { loadRegistry } from './workspace/data';
import { loadFirewalldServices } from './workspace/firewalldData';
import { PORTOLAN_JSON } from './core/portolanJson';
import {
  encodingOnDisk,
  folderHostsOf,
  isDirectory,
  isIncludeCandidate,
  readText,
  readTextOrReason,
  scanFolder,
  toPosix,
  type SkippedFile,
} from './workspace/files';
import type { FileParse, Finding, FormatId } from './core/types';
import { STATUS_NOTIFICATION, type ServerStatus } from './protocol';
import { Cancelled, OffThreadParser } from './offThread';

const VERSION = '0.1.0';
// A request the client cancelled before the server got to it is answered "cancelled" without being computed.
const connection = createConnection(ProposedFeatures.all, {
  connectionStrategy: {
    cancelUndispatched: () => ({ jsonrpc: '2.0', id: null, error: { code: LSPErrorCodes.RequestCancelled, message: 'Request cancelled' } }),
  },
});
const documents = new TextDocuments(TextDocument);
const registry = loadRegistry();
const modules = createFormatModules(registry, { firewalldServices: loadFirewalldServices() });
const engine = new Engine(modules, registry, RULES);

let folders: string[] = [];
let hasConfiguration = false;
let canCreateFiles = false;
let hasDynamicWatch = false;
let hasDynamicConfig = false;
let hasWorkspaceFolders = false;
let settings: EngineSettings = { ephemeralRanges: parseEphemeralRanges(DEFAULT_EPHEMERAL_RANGES) };
let hostSettings: Record<string, string[]> = {};
/** Editor-side switches of the navigation features (code lens on, inlay hints off by default). */
let featureOptions: FeatureOptions = { codeLens: true, inlayHints: false };
/** The settings problems last shown, so a warning is not repeated on every configuration change. */
let lastSettingsWarning = '';
/** What was last sent for each file, so unchanged files are not re-published. */
const published = new Map<string, string>();
/**
 * What each file's last diagnostics were made from: the engine keeps a file's findings array while
 * they do not change, so the same array and the same text need no new diagnostics (an edit costs
 * the files it changed, not every file with findings).
 */
const publishedFrom = new Map<string, { findings: readonly Finding[]; text: string | undefined }>();
const NO_FINDINGS: readonly Finding[] = [];
/** The engine's analysis last published in full (`AnalysisResult.generation`; 0: none, or the scoped pass published since). */
let publishedGeneration = 0;

/** Language ids clients send (VS Code's and Neovim's filetypes) that name a format outright. */
const LANGUAGE_FORMATS: Record<string, FormatId> = { 'sshd-config': 'sshd', sshdconfig: 'sshd', nginx: 'nginx', dockercompose: 'compose' };

function pathOf(uri: string): string | undefined {
  const parsed = URI.parse(uri);
  return parsed.scheme === 'file' ? toPosix(parsed.fsPath) : undefined;
}

connection.onInitialize((params: InitializeParams) => {
  const caps = params.capabilities;
  hasConfiguration = !!caps.workspace?.configuration;
  hasDynamicWatch = !!caps.workspace?.didChangeWatchedFiles?.dynamicRegistration;
  hasDynamicConfig = !!caps.workspace?.didChangeConfiguration?.dynamicRegistration;
  hasWorkspaceFolders = !!caps.workspace?.workspaceFolders;
  canCreateFiles = !!caps.workspace?.workspaceEdit?.resourceOperations?.includes('create') && !!caps.workspace?.workspaceEdit?.documentChanges;
  const wsFolders: WorkspaceFolder[] = params.workspaceFolders ?? (params.rootUri ? [{ uri: params.rootUri, name: 'root' }] : []);
  folders = wsFolders.map((f) => pathOf(f.uri)).filter((p): p is string => !!p);
  return {
    capabilities: {
      textDocumentSync: TextDocumentSyncKind.Incremental,
      ...featureCapabilities(),
      workspace: { workspaceFolders: { supported: true, changeNotifications: true } },
    },
    serverInfo: { name: 'portolan', version: VERSION },
  };
});

connection.onInitialized(async () => {
  if (hasDynamicWatch) {
    await connection.client.register(DidChangeWatchedFilesNotification.type, { watchers: [{ globPattern: '**/*' }] });
  }
  if (hasDynamicConfig) await connection.client.register(DidChangeConfigurationNotification.type, { section: 'portolan' });
  connection.console.info(
    `Portolan language server ${VERSION} started (Node ${process.version}, pid ${process.pid}); folders: ${folders.join(', ') || 'none'}`,
  );
  await loadSettings();
  const progress = await connection.window.createWorkDoneProgress();
  progress.begin('Portolan', 0, `Reading ${folders.length === 1 ? 'the workspace folder' : `${folders.length} workspace folders`}`);
  for (const folder of folders) loadFolder(folder);
  applyHosts(); // now with each folder's .portolan.json in the engine
  const fileCount = engine.fileNames().length;
  progress.report(10, `Analysing ${fileCount.toLocaleString('en')} files`);
  sendStatus({ state: 'analysing', files: fileCount });
  await new Promise((resolve) => setImmediate(resolve)); // lets the client show "analysing" and open its documents first
  publishOpenFirst();
  progress.report(50, `Analysing ${fileCount.toLocaleString('en')} files`);
  await new Promise((resolve) => setImmediate(resolve));
  loaded = true;
  publishAll('analysed');
  progress.done();
  if (hasWorkspaceFolders) connection.workspace.onDidChangeWorkspaceFolders(({ added, removed }) => changeFolders(added, removed));
});

/**
 * Cold start on a big workspace: the open documents' hosts are analysed on their own first (a
 * scoped engine over their files), so the files the user looks at get their diagnostics before
 * the rest of the workspace is analysed. Skipped when those hosts hold most of the workspace.
 */
function publishOpenFirst(): void {
  const open = documents
    .all()
    .map((d) => pathOf(d.uri))
    .filter((f): f is string => !!f && engine.hasFile(f));
  if (open.length === 0) return;
  const hosts = new Set(open.map((f) => engine.hosts.hostOf(f)));
  const files = engine.fileNames().filter((f) => hosts.has(engine.hosts.hostOf(f)));
  if (files.length * 2 > engine.fileNames().length) return;
  const scoped = engine.scoped(files);
  try {
    publish(scoped.analyze(), open, scoped);
    publishedGeneration = 0;
  } catch (e) {
    connection.console.error(`Portolan could not analyse the open files first: ${(e as Error).stack ?? e}`);
  }
}

function changeFolders(added: WorkspaceFolder[], removed: WorkspaceFolder[]): void {
  const gone = removed.map((f) => pathOf(f.uri)).filter((p): p is string => !!p);
  folders = folders.filter((f) => !gone.includes(f));
  for (const folder of gone) {
    for (const file of engine.fileNames()) {
      const stillCovered = folders.some((f) => file.startsWith(f + '/'));
      const open = documents.get(URI.file(file).toString());
      if (file.startsWith(folder + '/') && !stillCovered && !open) engine.deleteFile(file);
    }
  }
  for (const folder of added.map((f) => pathOf(f.uri)).filter((p): p is string => !!p)) {
    if (folders.includes(folder)) continue;
    folders.push(folder);
    loadFolder(folder);
  }
  applyHosts();
  schedulePublish();
}

async function loadSettings(): Promise<void> {
  // A client without workspace/configuration gets the defaults; hosts from .portolan.json apply either way.
  if (hasConfiguration) {
    try {
      const cfg = (await connection.workspace.getConfiguration('portolan')) as {
        ephemeralRanges?: unknown;
        hosts?: Record<string, string[]>;
        ignore?: unknown;
        severity?: unknown;
        codeLens?: { enabled?: unknown };
        inlayHints?: { enabled?: unknown };
      } | null;
      const ranges = checkEphemeralRanges(cfg?.ephemeralRanges);
      const hosts = checkHosts(cfg?.hosts);
      settings = {
        ephemeralRanges: ranges.value,
        ignoreCodes: Array.isArray(cfg?.ignore) ? cfg.ignore.map(String) : [],
        severity: parseSeverityOverrides(cfg?.severity),
      };
      hostSettings = hosts.value;
      featureOptions = { codeLens: cfg?.codeLens?.enabled !== false, inlayHints: cfg?.inlayHints?.enabled === true };
      const problems = [...ranges.problems, ...hosts.problems];
      const said = problems.join(' ');
      if (problems.length > 0 && said !== lastSettingsWarning)
        void connection.sendNotification(ShowMessageNotification.type, { type: MessageType.Warning, message: `Portolan settings: ${said}` });
      lastSettingsWarning = said;
    } catch {
      // A client that fails the request keeps the defaults.
    }
  }
  engine.setSettings(settings);
  applyHosts();
}

/** The hosts of every folder: its `.portolan.json` as the engine holds it (an open document wins over the disk), then `portolan.hosts`. */
function applyHosts(): void {
  // After an analysis in steps that is paused, with the texts it leaves: the engine's files and hosts change together.
  engine.whenIdle(() => {
    const mapped: FolderHosts[] = folders.map((folder) => {
      const file = folderHostsOf(folder, engine.text(`${folder}/${PORTOLAN_JSON}`));
      return { ...file, folder, hosts: { ...(file?.hosts ?? {}), ...hostSettings } };
    });
    engine.hosts.setFolders(mapped);
  });
}

/** A `.portolan.json` at a folder's root enters the engine (its mistakes are findings on it) from the disk, unless it is open. */
function loadFolderConfig(folder: string): void {
  const file = `${folder}/${PORTOLAN_JSON}`;
  if (documents.get(URI.file(file).toString())) return;
  const text = readText(file);
  if (text !== undefined) engine.setFile(file, text);
  else engine.deleteFile(file);
}

const isFolderConfig = (file: string) => file.endsWith(`/${PORTOLAN_JSON}`) && folders.includes(file.slice(0, -PORTOLAN_JSON.length - 1));

function loadFolder(folder: string): void {
  loadFolderConfig(folder);
  loadTree(folder);
}

/** Every file a format claims below `dir` (a workspace folder, or a folder created in one), as the first scan reads them. */
function loadTree(dir: string): void {
  const onSkip = (s: SkippedFile) => {
    connection.console.info(`skipped ${s.path}: ${s.reason}`);
    if (s.unread && !documents.get(URI.file(s.path).toString())) engine.setUnread(s.path, s.unread);
  };
  for (const f of scanFolder(dir, modules, undefined, onSkip)) {
    if (f.aliasOf) engine.setAlias(f.path, f.aliasOf);
    if (!documents.get(URI.file(f.path).toString())) engine.setFile(f.path, f.text);
    engine.setEncoding(f.path, f.encoding);
  }
}

/** The workspace folders are read: until then edits wait for the first analysis. */
let loaded = false;
let publishTimer: NodeJS.Timeout | undefined;
let firstPending = 0;
/** How long the last analysis took: a burst of edits waits that long after its last edit (at most 200 ms, and 500 ms in all). */
let lastAnalysisMs = 0;
/** An edit of a big document waits this long for the next keystroke before the analysis runs (ms). */
const BIG_EDIT_DELAY_MS = 300;
/** Documents over this many characters count as big for the delay. */
const BIG_DOCUMENT_CHARS = 512 * 1024;
let bigEditTimer: NodeJS.Timeout | undefined;
/** Big documents' latest texts, handed to the engine once typing pauses and they are parsed (until then requests see the text before). */
const pendingBig = new Map<string, { text: string; hint?: FormatId }>();
/** Parses big documents in a worker, so requests are answered from the last analysis meanwhile. */
const offThread = new OffThreadParser();
/**
 * The formats whose big documents are parsed in the worker: YAML, whose reading costs far more than its
 * parse's crossing back to the main thread (README, Limits). The others are parsed on the main thread in
 * time slices (`parseSteps`), measured: a 3.9 MB rules.v4's 390,000 facts cost 2-4 s to cross back, an
 * nft ruleset of 133,000 facts 8 s.
 */
const OFF_THREAD = new Set<FormatId>(['compose', 'kubernetes']);
/** Bumped by every edit of a big document: a parse begun before it is superseded. */
let bigEdits = 0;
/**
 * Publishes after a burst of edits; after an edit of a big document, once typing pauses and its parse
 * (off the main thread) is done: the requests sent meanwhile (a hover elsewhere) are answered from the
 * last analysis, a burst of keystrokes in a 4 MB file is analysed once, and a newer edit cancels the parse.
 */
function schedulePublish(bigEdit = false): void {
  if (bigEdit) {
    bigEdits++;
    offThread.cancel();
    if (bigEditTimer) clearTimeout(bigEditTimer);
    bigEditTimer = setTimeout(() => {
      bigEditTimer = undefined;
      applyBig(bigEdits).catch((e) => connection.console.error(`Portolan could not analyse an edit: ${(e as Error).stack ?? e}`));
    }, BIG_EDIT_DELAY_MS);
    return;
  }
  if (!loaded || bigEditTimer) return;
  const now = Date.now();
  if (publishTimer) {
    if (now - firstPending > 500) return;
    clearTimeout(publishTimer);
  } else firstPending = now;
  publishTimer = setTimeout(
    () => {
      publishTimer = undefined;
      publishAll();
    },
    Math.min(200, lastAnalysisMs),
  );
}

/**
 * Hands the big documents' latest texts to the engine, each parsed first while the main thread stays free
 * for requests: YAML in the worker, the other formats on the main thread in time slices (core/steps.ts;
 * in one piece for a format without `parseSteps`). Gives up when a newer edit came meanwhile (`edits` is
 * no longer the count). Without a worker, or when it fails, YAML is parsed on the main thread in one piece.
 */
async function applyBig(edits: number): Promise<void> {
  const batch = [...pendingBig];
  const parsed: { file: string; text: string; wanted: ReturnType<Engine['parsesWanted']>[number]; parse: FileParse }[] = [];
  if (loaded) {
    sendStatus({ state: 'analysing', files: engine.fileCount() });
    for (const [file, { text, hint }] of batch)
      for (const wanted of engine.parsesWanted(file, text, hint)) {
        let parse: FileParse | undefined;
        if (OFF_THREAD.has(wanted.format) && offThread.available) {
          try {
            parse = await offThread.parse({ file, text, ...wanted });
          } catch (e) {
            if (e instanceof Cancelled || edits !== bigEdits) return;
            connection.console.warn(`Portolan parses on the main thread: ${(e as Error).message}`);
          }
        }
        // On the main thread in time slices: a request meanwhile is answered between two of them.
        const module = engine.modules.find((m) => m.id === wanted.format)!;
        parse ??= await runInSlices(fileParseSteps(module, text, file, wanted.context, wanted.encoding), () => edits === bigEdits);
        if (!parse) return;
        parsed.push({ file, text, wanted, parse });
      }
  }
  if (edits !== bigEdits) return;
  // One synchronous step from here to the publish: no request sees a parse the engine's texts do not
  // match, nor an engine with new texts and no analysis of them (a hover would run the analysis itself).
  for (const p of parsed) engine.adoptParse(p.file, p.text, p.wanted, p.parse);
  for (const [file, { text, hint }] of batch) if (pendingBig.get(file)?.text === text) engine.setFile(file, text, hint);
  pendingBig.clear();
  if (!loaded) return;
  if (publishTimer) clearTimeout(publishTimer);
  publishTimer = undefined;
  publishAll();
}

let generation = 0;
function sendStatus(status: Omit<ServerStatus, 'generation'>): void {
  void connection.sendNotification(STATUS_NOTIFICATION, { ...status, generation: ++generation } satisfies ServerStatus);
}

/** An analysis in steps is under way (`publishAll`); `analyseAgain`: a publish was asked meanwhile. */
let analysing = false;
let analyseAgain = false;

/**
 * Analyses, publishes what changed and tells the client the analysis is done; `logAs` also writes a line
 * to its output. The first analysis runs in one piece; later ones in time slices (core/steps.ts), so a
 * request meanwhile is answered from the analysis before, and changes meanwhile wait for the next.
 */
function publishAll(logAs?: string): void {
  if (analysing) {
    analyseAgain = true;
    return;
  }
  const t0 = Date.now();
  if (publishedGeneration === 0) {
    let result: ReturnType<typeof engine.analyze> | undefined;
    try {
      result = engine.analyze();
    } catch (e) {
      analysisFailed(e, t0);
    }
    if (result) publishResult(result, t0, logAs);
    return;
  }
  analysing = true;
  analyseAgain = false;
  void runInSlices(engine.analyzeSteps(), () => true)
    .then((result) => publishResult(result!, t0, logAs))
    .catch((e) => analysisFailed(e, t0))
    .finally(() => {
      analysing = false;
      // What changed meanwhile is analysed now, in this same turn: no request sees it unanalysed.
      if (engine.applyWaiting() || analyseAgain) publishAll();
    });
}

/** A bug in the engine must not take the server down: say so, keep what was published. */
function analysisFailed(e: unknown, t0: number): void {
  connection.console.error(`Portolan could not analyse the workspace: ${(e as Error).stack ?? e}`);
  sendStatus({ state: 'ready', files: engine.fileCount(), durationMs: Date.now() - t0 });
}

/** Publishes what `result` changed since the last publish. */
function publishResult(result: ReturnType<typeof engine.analyze>, t0: number, logAs?: string): void {
  const durationMs = Date.now() - t0;
  if (!logAs) lastAnalysisMs = durationMs;
  const fileCount = engine.fileCount();
  if (logAs) {
    let errors = 0;
    let warnings = 0;
    for (const list of result.findingsByFile.values())
      for (const f of list) {
        if (f.severity === 'error') errors++;
        else if (f.severity === 'warning') warnings++;
      }
    connection.console.info(`${logAs} ${fileCount} files in ${durationMs} ms: ${errors} errors, ${warnings} warnings`);
  }
  // After an edit the engine names the files whose findings or text may have changed since the analysis published last.
  const files =
    result.generation === publishedGeneration
      ? []
      : result.changes?.since === publishedGeneration
        ? result.changes.files
        : new Set([...published.keys(), ...result.findingsByFile.keys()]);
  publish(result, files, engine);
  publishedGeneration = result.generation;
  sendStatus({ state: 'ready', files: fileCount, durationMs });
}

/** Sends the diagnostics of `files` that changed since they were last sent (`from` holds the texts the findings are about). */
function publish(result: ReturnType<Engine['analyze']>, files: Iterable<string>, from: Engine): void {
  const indexes = new Map<string, LineIndex>();
  const indexOf = (file: string) => {
    let idx = indexes.get(file);
    if (!idx) {
      const text = from.text(file);
      if (text === undefined) return undefined;
      indexes.set(file, (idx = new LineIndex(text)));
    }
    return idx;
  };
  for (const file of files) {
    const findings = result.findingsByFile.get(file) ?? NO_FINDINGS;
    const text = from.text(file);
    const last = publishedFrom.get(file);
    if (last && last.findings === findings && last.text === text) continue;
    if (findings.length === 0) publishedFrom.delete(file);
    else publishedFrom.set(file, { findings, text });
    const index = indexOf(file);
    let diagnostics: ReturnType<typeof toDiagnostic>[];
    try {
      diagnostics = index ? findings.map((f) => toDiagnostic(f, index, indexOf)) : [];
    } catch (e) {
      // One file's diagnostics failing is said on that file; the others are still published.
      diagnostics = [
        {
          range: { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } },
          severity: 1,
          source: 'portolan',
          code: 'syntax',
          message: `Portolan could not show this file's findings (${(e as Error).message}).`,
        },
      ];
    }
    const key = JSON.stringify(diagnostics);
    if ((published.get(file) ?? '[]') === key) continue;
    if (diagnostics.length === 0) published.delete(file);
    else published.set(file, key);
    void connection.sendDiagnostics({ uri: URI.file(file).toString(), diagnostics });
  }
}

documents.onDidChangeContent(({ document }) => {
  const file = pathOf(document.uri);
  if (!file) return;
  const text = document.getText();
  const hint = LANGUAGE_FORMATS[document.languageId] ?? (modules.some((m) => m.matchesPath(file)) ? undefined : detectFormat(modules, file, text)?.id);
  if (text.length > BIG_DOCUMENT_CHARS) {
    pendingBig.set(file, { text, hint });
    schedulePublish(true);
    return;
  }
  pendingBig.delete(file);
  engine.setFile(file, text, hint);
  if (isFolderConfig(file)) applyHosts();
  schedulePublish();
});

// The editor decodes an opened file (drops its byte-order mark, decodes UTF-16): how it is saved is read from the disk.
documents.onDidOpen(({ document }) => {
  const file = pathOf(document.uri);
  if (file) engine.setEncoding(file, encodingOnDisk(file));
});

documents.onDidClose(({ document }) => {
  const file = pathOf(document.uri);
  if (!file) return;
  pendingBig.delete(file);
  // Back to what is on disk; a file that is gone (or was never saved) leaves the analysis.
  const read = readTextOrReason(file);
  const inFolder = folders.some((f) => file.startsWith(f + '/'));
  if (inFolder && 'text' in read) {
    engine.setFile(file, read.text);
    engine.setEncoding(file, read.encoding);
  } else if (inFolder && 'unread' in read && read.unread) engine.setUnread(file, read.unread);
  else engine.deleteFile(file);
  if (isFolderConfig(file)) applyHosts();
  schedulePublish();
});

connection.onDidChangeWatchedFiles(({ changes }) => {
  for (const change of changes) {
    const file = pathOf(change.uri);
    if (!file) continue;
    // Open documents override the disk, but for how the file is saved (a save that dropped its byte-order mark).
    if (documents.get(change.uri)) {
      if (change.type !== FileChangeType.Deleted) engine.setEncoding(file, encodingOnDisk(file));
      continue;
    }
    if (isFolderConfig(file)) {
      loadFolderConfig(file.slice(0, -PORTOLAN_JSON.length - 1));
      applyHosts();
      continue;
    }
    if (change.type === FileChangeType.Deleted) {
      engine.deleteFile(file);
      for (const known of engine.fileNames()) if (known.startsWith(file + '/')) engine.deleteFile(known);
      continue;
    }
    // A folder copied or checked out at once: the watcher may name only the folder, not the files in it.
    if (change.type === FileChangeType.Created && isDirectory(file)) {
      if (folders.some((f) => file.startsWith(f + '/'))) loadTree(file);
      continue;
    }
    const read = readTextOrReason(file);
    if (!(engine.hasFile(file) || isIncludeCandidate(file) || modules.some((m) => m.matchesPath(file)))) continue;
    if ('text' in read) {
      engine.setFile(file, read.text);
      engine.setEncoding(file, read.encoding);
    } else if (read.unread) engine.setUnread(file, read.unread);
  }
  schedulePublish();
});

connection.onDidChangeConfiguration(async () => {
  await loadSettings();
  if (loaded) publishAll();
});

const context: ServerContext = {
  connection,
  engine,
  pathOf,
  folderOf: (file) => folders.find((f) => file.startsWith(f + '/')),
  settings: () => settings,
  options: () => featureOptions,
  canCreateFiles: () => canCreateFiles,
  toDiagnostic: (f, index) => toDiagnostic(f, index, (other) => engine.lineIndex(other)),
};
for (const feature of FEATURES) feature.register(context);

documents.listen(connection);
connection.listen();
