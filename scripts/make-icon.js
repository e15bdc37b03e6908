#!/usr/bin/env node
/**
 * Draws the extension's icon, media/icon.png (128x128): a compass rose (a portolan chart's emblem) over a
 * ring of port ticks, one tick red. Pure Node (zlib for the PNG), 4x4 supersampled; run it again after a
 * change: `node scripts/make-icon.js`.
 */
'use strict';
const fs = require('fs');
const path = require('path');
const zlib = require('zlib');

const SIZE = 128;
const SS = 4;

const BG = [11, 61, 92];
const RING = [127, 196, 230];
const ROSE_LIGHT = [245, 241, 227];
const ROSE_DARK = [196, 182, 140];
const RED = [232, 76, 61];

function inRoundedSquare(x, y, r) {
  const cx = Math.min(Math.max(x, r), SIZE - r);
  const cy = Math.min(Math.max(y, r), SIZE - r);
  return (x - cx) ** 2 + (y - cy) ** 2 <= r * r;
}

/** Inside the triangle a, b, c? */
function inTriangle(px, py, [ax, ay], [bx, by], [cx, cy]) {
  const d1 = (px - bx) * (ay - by) - (ax - bx) * (py - by);
  const d2 = (px - cx) * (by - cy) - (bx - cx) * (py - cy);
  const d3 = (px - ax) * (cy - ay) - (cx - ax) * (py - ay);
  const neg = d1 < 0 || d2 < 0 || d3 < 0;
  const pos = d1 > 0 || d2 > 0 || d3 > 0;
  return !(neg && pos);
}

function colourAt(x, y) {
  if (!inRoundedSquare(x, y, 22)) return undefined;
  const c = SIZE / 2;
  const dx = x - c;
  const dy = y - c;
  const r = Math.hypot(dx, dy);
  const angle = Math.atan2(dy, dx);
  // The rose: 4 long points and 4 short ones, each point split into a light and a dark half.
  for (let i = 0; i < 8; i++) {
    const a = (i * Math.PI) / 4 - Math.PI / 2;
    const long = i % 2 === 0;
    const len = long ? 44 : 24;
    const half = long ? 9 : 7;
    const tip = [c + Math.cos(a) * len, c + Math.sin(a) * len];
    const left = [c + Math.cos(a - Math.PI / 2) * half, c + Math.sin(a - Math.PI / 2) * half];
    const right = [c + Math.cos(a + Math.PI / 2) * half, c + Math.sin(a + Math.PI / 2) * half];
    if (inTriangle(x, y, [c, c], tip, left)) return long ? ROSE_LIGHT : ROSE_DARK;
    if (inTriangle(x, y, [c, c], tip, right)) return long ? ROSE_DARK : ROSE_LIGHT;
  }
  // The ring of ports: a thin circle with 24 ticks; the tick at about 2 o'clock is a conflict.
  if (Math.abs(r - 52) < 1.6) return RING;
  if (r > 52 && r < 59) {
    const step = (2 * Math.PI) / 24;
    const k = Math.round(angle / step);
    const off = Math.abs(angle - k * step) * r;
    if (off < 1.5) return ((k % 24) + 24) % 24 === 22 ? RED : RING;
  }
  return BG;
}

function render() {
  const rgba = Buffer.alloc(SIZE * SIZE * 4);
  for (let py = 0; py < SIZE; py++) {
    for (let px = 0; px < SIZE; px++) {
      let r = 0;
      let g = 0;
      let b = 0;
      let a = 0;
      for (let sy = 0; sy < SS; sy++) {
        for (let sx = 0; sx < SS; sx++) {
          const col = colourAt(px + (sx + 0.5) / SS, py + (sy + 0.5) / SS);
          if (!col) continue;
          r += col[0];
          g += col[1];
          b += col[2];
          a++;
        }
      }
      const i = (py * SIZE + px) * 4;
      if (a > 0) {
        rgba[i] = Math.round(r / a);
        rgba[i + 1] = Math.round(g / a);
        rgba[i + 2] = Math.round(b / a);
      }
      rgba[i + 3] = Math.round((255 * a) / (SS * SS));
    }
  }
  return rgba;
}

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32(buf) {
  let c = 0xffffffff;
  for (const byte of buf) c = CRC_TABLE[(c ^ byte) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
function chunk(type, data) {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([len, body, crc]);
}

function png(rgba) {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(SIZE, 0);
  header.writeUInt32BE(SIZE, 4);
  header[8] = 8; // bit depth
  header[9] = 6; // RGBA
  const raw = Buffer.alloc(SIZE * (SIZE * 4 + 1));
  for (let y = 0; y < SIZE; y++) rgba.copy(raw, y * (SIZE * 4 + 1) + 1, y * SIZE * 4, (y + 1) * SIZE * 4);
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', zlib.deflateSync(raw, { level: 9 })),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

const out = path.join(__dirname, '..', 'media', 'icon.png');
fs.mkdirSync(path.dirname(out), { recursive: true });
fs.writeFileSync(out, png(render()));
console.log(`${path.relative(process.cwd(), out)} (${fs.statSync(out).size} bytes)`);
