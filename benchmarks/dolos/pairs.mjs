// Score (original, copy) pairs with the Dolos library, one analysis per pair.
// Input: JSONL of {"id", "work", "copy"} (file paths). Output: JSONL of
// {"id", "similarity", "containment"} where containment is the share of the work's tokens Dolos
// finds in the copy (leftCovered/leftTotal for the work's side).
import { readFileSync } from "node:fs";
import { createInterface } from "node:readline";
import { Dolos, File } from "@dodona/dolos-lib";

const [, , pairsFile, language = "python"] = process.argv;
const lines = readFileSync(pairsFile, "utf8").split("\n").filter((l) => l.trim());
for (const line of lines) {
  const { id, work, copy } = JSON.parse(line);
  try {
    const a = new File(work, readFileSync(work, "utf8"));
    const b = new File(copy, readFileSync(copy, "utf8"));
    // A Dolos instance keeps its fingerprint index across analyze() calls: one instance per pair.
    const dolos = new Dolos({ language });
    const report = await dolos.analyze([a, b]);
    const pairs = report.allPairs();
    let similarity = 0, containment = 0;
    if (pairs.length) {
      const p = pairs[0];
      similarity = p.similarity;
      const workLeft = p.leftFile.path === work;
      const covered = workLeft ? p.leftCovered : p.rightCovered;
      const total = workLeft ? p.leftTotal : p.rightTotal;
      containment = total ? covered / total : 0;
    }
    process.stdout.write(JSON.stringify({ id, similarity, containment }) + "\n");
  } catch (e) {
    process.stdout.write(JSON.stringify({ id, error: String(e) }) + "\n");
  }
}
