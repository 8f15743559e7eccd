// The text of a PDF that Chromium printed, without a PDF library: inflate the streams with
// node's zlib, read each font's ToUnicode CMap, and decode the strings the pages show
// (Tj, TJ, ', ") through the font selected by Tf. Enough for Chromium's own output (plain
// objects, FlateDecode streams, Identity-H fonts); not a general PDF reader.
//
// pdfText(buffer) → one string per page, glyphs in content order (spacing is not
// reconstructed: compare with whitespace removed).

import zlib from "node:zlib";

function objects(pdf) {
  const objs = new Map();
  const re = /(\d+)\s+0\s+obj\b([\s\S]*?)\bendobj/g;
  let m;
  while ((m = re.exec(pdf))) {
    const body = m[2];
    const at = body.search(/\bstream\r?\n/);
    let dict = body;
    let stream = null;
    if (at >= 0) {
      dict = body.slice(0, at);
      const start = at + body.slice(at).match(/^stream\r?\n/)[0].length;
      const end = body.lastIndexOf("endstream");
      let raw = Buffer.from(body.slice(start, end), "latin1");
      if (/\/FlateDecode/.test(dict)) {
        try {
          raw = zlib.inflateSync(raw);
        } catch {
          raw = zlib.inflateSync(raw, { finishFlush: zlib.constants.Z_SYNC_FLUSH });
        }
      }
      stream = raw.toString("latin1");
    }
    objs.set(Number(m[1]), { dict, stream });
  }
  return objs;
}

function ref(dict, key) {
  const m = dict.match(new RegExp(`/${key}\\s+(\\d+)\\s+0\\s+R`));
  return m ? Number(m[1]) : null;
}

// A dictionary value that is either inline `<< … >>` or a reference to one.
function subdict(objs, dict, key) {
  const at = dict.search(new RegExp(`/${key}\\s*(<<|\\d+\\s+0\\s+R)`));
  if (at < 0) return "";
  const rest = dict.slice(at + key.length + 1).trimStart();
  if (rest.startsWith("<<")) {
    let depth = 0;
    for (let i = 0; i < rest.length - 1; i++) {
      if (rest.startsWith("<<", i)) { depth++; i++; }
      else if (rest.startsWith(">>", i)) { depth--; i++; if (depth === 0) return rest.slice(0, i + 1); }
    }
    return rest;
  }
  const n = Number(rest.match(/^(\d+)/)[1]);
  return objs.get(n)?.dict ?? "";
}

function utf16(hex) {
  const units = [];
  for (let i = 0; i + 4 <= hex.length; i += 4) units.push(parseInt(hex.slice(i, i + 4), 16));
  return String.fromCharCode(...units);
}

function cmap(text) {
  const map = new Map();
  let width = 2;
  for (const block of text.matchAll(/beginbfchar([\s\S]*?)endbfchar/g)) {
    for (const [, src, dst] of block[1].matchAll(/<([0-9a-fA-F]+)>\s*<([0-9a-fA-F]+)>/g)) {
      width = src.length / 2;
      map.set(parseInt(src, 16), utf16(dst));
    }
  }
  for (const block of text.matchAll(/beginbfrange([\s\S]*?)endbfrange/g)) {
    for (const [, lo, hi, dst, list] of block[1].matchAll(/<([0-9a-fA-F]+)>\s*<([0-9a-fA-F]+)>\s*(?:<([0-9a-fA-F]+)>|\[([^\]]*)\])/g)) {
      width = lo.length / 2;
      const a = parseInt(lo, 16);
      const b = parseInt(hi, 16);
      if (dst) {
        const base = utf16(dst);
        const last = base.charCodeAt(base.length - 1);
        for (let c = a; c <= b; c++) map.set(c, base.slice(0, -1) + String.fromCharCode(last + (c - a)));
      } else {
        const items = [...list.matchAll(/<([0-9a-fA-F]+)>/g)].map((x) => utf16(x[1]));
        items.forEach((s, k) => map.set(a + k, s));
      }
    }
  }
  return { map, width };
}

function literal(s) {
  // (…) string: undo the escapes; bytes as latin1.
  return s.replace(/\\([nrtbf()\\]|[0-7]{1,3})/g, (_, e) => {
    const simple = { n: "\n", r: "\r", t: "\t", b: "\b", f: "\f", "(": "(", ")": ")", "\\": "\\" };
    return simple[e] ?? String.fromCharCode(parseInt(e, 8));
  });
}

function decode(bytes, font) {
  if (!font) return bytes;
  let out = "";
  for (let i = 0; i + font.width <= bytes.length; i += font.width) {
    let code = 0;
    for (let k = 0; k < font.width; k++) code = code * 256 + bytes.charCodeAt(i + k);
    out += font.map.get(code) ?? "";
  }
  return out;
}

function show(content, fonts) {
  let text = "";
  let font = null;
  const tokens = /\/([^\s/<>\[\]()]+)\s+[-\d.]+\s+Tf|<([0-9a-fA-F\s]*)>|\(((?:\\.|[^\\)])*)\)|(T\*|ET)/g;
  let m;
  while ((m = tokens.exec(content))) {
    if (m[1] !== undefined) font = fonts.get(m[1]) ?? null;
    else if (m[2] !== undefined) {
      const hex = m[2].replace(/\s+/g, "");
      let bytes = "";
      for (let i = 0; i + 2 <= hex.length; i += 2) bytes += String.fromCharCode(parseInt(hex.slice(i, i + 2), 16));
      text += decode(bytes, font);
    } else if (m[3] !== undefined) text += decode(literal(m[3]), font);
    else text += "\n";
  }
  return text;
}

export function pdfText(buffer) {
  const pdf = buffer.toString("latin1");
  const objs = objects(pdf);
  const fontOf = new Map(); // object number → {map, width}
  const fontsOf = (resources) => {
    const fonts = new Map();
    const dict = subdict(objs, resources, "Font");
    for (const [, name, num] of dict.matchAll(/\/([^\s/<>]+)\s+(\d+)\s+0\s+R/g)) {
      const n = Number(num);
      if (!fontOf.has(n)) {
        const cm = ref(objs.get(n)?.dict ?? "", "ToUnicode");
        fontOf.set(n, cm !== null && objs.get(cm)?.stream ? cmap(objs.get(cm).stream) : null);
      }
      fonts.set(name, fontOf.get(n));
    }
    return fonts;
  };
  const pages = [];
  for (const [, o] of objs) {
    if (!/\/Type\s*\/Page\b/.test(o.dict)) continue;
    const fonts = fontsOf(subdict(objs, o.dict, "Resources"));
    const contents = [];
    const arr = o.dict.match(/\/Contents\s*\[([^\]]*)\]/);
    if (arr) for (const [, n] of arr[1].matchAll(/(\d+)\s+0\s+R/g)) contents.push(Number(n));
    else {
      const n = ref(o.dict, "Contents");
      if (n !== null) contents.push(n);
    }
    let text = "";
    for (const n of contents) text += show(objs.get(n)?.stream ?? "", fonts);
    // Form XObjects drawn on the page, with their own fonts.
    const xobjects = subdict(objs, subdict(objs, o.dict, "Resources"), "XObject");
    for (const [, num] of xobjects.matchAll(/\/[^\s/<>]+\s+(\d+)\s+0\s+R/g)) {
      const x = objs.get(Number(num));
      if (x && /\/Subtype\s*\/Form/.test(x.dict)) text += show(x.stream ?? "", fontsOf(subdict(objs, x.dict, "Resources")));
    }
    pages.push(text);
  }
  return pages;
}
