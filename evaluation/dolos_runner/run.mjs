// Pair similarities of a set of programs by Dolos (@dodona/dolos-lib), for clonedetect's evaluation.
//
//   node run.mjs < request.json > pairs.json
//   node run.mjs --check          (loads the java and c parsers; prints {"ok": true, ...})
//
// request.json: {"language": "java", "files": ["<source of program 0>", "<source of program 1>", ...]}
// Output: {"dolos_lib": "3.5.1", "language": "java", "files": N,
//          "pairs": [[i, j, similarity, longest, overlap], ...]}  for every 0 <= i < j < N.
//
// dolos-lib is resolved from the folder named by CLONEDETECT_DOLOS_DIR (the cached npm install
// made by `python -m clonedetect.evaluation.dolos --install`), else from beside this script.
import { createRequire } from "node:module";
import { readFileSync } from "node:fs";
import { join, dirname } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const installDir = process.env.CLONEDETECT_DOLOS_DIR || dirname(fileURLToPath(import.meta.url));
const require = createRequire(join(installDir, "package.json"));
const entry = require.resolve("@dodona/dolos-lib");
const { Dolos, File } = await import(pathToFileURL(entry).href);
const version = JSON.parse(readFileSync(join(dirname(entry), "..", "package.json"), "utf8")).version;

const EXTENSIONS = { java: ".java", c: ".c", cpp: ".cpp", python: ".py", javascript: ".js" };

async function analyze(language, sources) {
  if (!(language in EXTENSIONS)) {
    throw new Error(`unsupported language ${JSON.stringify(language)}: expected one of ${Object.keys(EXTENSIONS)}`);
  }
  const names = sources.map((_, i) => `program_${i}${EXTENSIONS[language]}`);
  const files = sources.map((source, i) => new File(names[i], source));
  const index = new Map(names.map((name, i) => [name, i]));
  const report = await new Dolos({ language }).analyze(files);
  const pairs = report.allPairs().map((pair) => {
    let left = index.get(pair.leftFile.path);
    let right = index.get(pair.rightFile.path);
    if (left > right) [left, right] = [right, left];
    return [left, right, pair.similarity, pair.longest, pair.overlap];
  });
  pairs.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  return { dolos_lib: version, language, files: sources.length, pairs };
}

async function main() {
  if (process.argv.includes("--check")) {
    const checked = [];
    for (const language of ["java", "c"]) {
      const program = language === "java"
        ? "class A { int f(int x) { int s = 0; for (int i = 0; i < x; i++) { s += i * x; } return s; } }"
        : "int f(int x) { int s = 0; for (int i = 0; i < x; i++) { s += i * x; } return s; }";
      const result = await analyze(language, [program, program]);
      if (result.pairs.length !== 1) throw new Error(`--check: expected one ${language} pair`);
      checked.push(language);
    }
    process.stdout.write(JSON.stringify({ ok: true, dolos_lib: version, languages: checked }) + "\n");
    return;
  }
  const request = JSON.parse(readFileSync(0, "utf8"));
  if (!Array.isArray(request.files) || request.files.some((f) => typeof f !== "string")) {
    throw new Error('the request needs "files": a list of program sources');
  }
  process.stdout.write(JSON.stringify(await analyze(request.language, request.files)) + "\n");
}

main().catch((error) => {
  process.stderr.write(`dolos runner: ${error && error.stack ? error.stack : error}\n`);
  process.exit(1);
});
