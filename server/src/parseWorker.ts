/**
 * The parse worker (server/src/offThread.ts starts it): parses a big opened document off the server's
 * main thread, so hovers and cancellations are answered meanwhile. A parse is pure (text -> FileParse,
 * plain data that survives the structured clone); the worker has its own format modules over the same data.
 */
import { parentPort } from 'worker_threads';
import { fileParse } from './core/engine';
import { createFormatModules } from './formats/index';
import { loadRegistry } from './workspace/data';
import { loadFirewalldServices } from './workspace/firewalldData';
import type { ParseJob, ParseReply } from './offThread';

const modules = createFormatModules(loadRegistry(), { firewalldServices: loadFirewalldServices() });

parentPort?.on('message', (job: ParseJob) => {
  let reply: ParseReply;
  try {
    const module = modules.find((m) => m.id === job.format);
    if (!module) throw new Error(`no ${job.format} reader`);
    reply = { id: job.id, parse: fileParse(module, job.text, job.file, job.context, job.encoding) };
  } catch (e) {
    reply = { id: job.id, error: (e as Error).message };
  }
  parentPort!.postMessage(reply);
});
