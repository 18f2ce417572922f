// Refuses a Node.js older than the one Arbiter runs on, with a message that says what to do.
// Plain JavaScript on purpose: an older Node cannot even load a .ts file, so this check has to run
// before anything imports src/. `npm test` runs it first (pretest); bin/arbiter.mjs imports it.
const REQUIRED_MAJOR = 24;

const major = Number(process.versions.node.split('.')[0]);
if (!(major >= REQUIRED_MAJOR)) {
  console.error(
    `Arbiter needs Node.js ${REQUIRED_MAJOR} or newer, but this is Node.js ${process.version} (${process.execPath}).\n` +
      `- Through npm (npm start, npm test, npx arbiter ...) it runs on the Node ${REQUIRED_MAJOR} that \`npm install\` puts in\n` +
      `  node_modules/.bin (the \`node\` dev dependency). If that binary is missing, run \`npm install\` again and check\n` +
      `  that npm did not skip the install script of \`node\` (package.json's allowScripts approves it).\n` +
      `- Or switch your shell to Node ${REQUIRED_MAJOR} (\`nvm use\` or \`fnm use\` read .nvmrc).`,
  );
  process.exit(1);
}
