"""The real readers of rendered files that are not Python's: npm's ``ini`` and config field parsing (node), and
``java.util.Properties`` (java). Each runs as one long-lived process that the tests feed a file at a time, so a
property test can send it hundreds of files. A reader that is not installed gives None, and the test that needs
it is skipped, saying so (CI installs node, npm and a JDK).

npm's own modules are used as npm ships them (``$(npm root -g)/npm/node_modules``): ``ini`` (``ini.parse``),
and ``@npmcli/config``'s ``parse-field.js``, which trims each value, reads true/false/null/undefined and
replaces ``${NAME}`` from the environment, as npm does for every ``.npmrc`` value.
"""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

_NODE_READER = r"""
const path = require('path');
const readline = require('readline');
const root = process.argv[1];
const ini = require(path.join(root, 'npm', 'node_modules', 'ini'));
const parseField = require(path.join(root, 'npm', 'node_modules', '@npmcli', 'config', 'lib', 'parse-field.js'));
const env = JSON.parse(process.argv[2]);
readline.createInterface({ input: process.stdin }).on('line', (line) => {
  const text = Buffer.from(line, 'base64').toString('utf8');
  const decoded = ini.parse(text);
  const npm = {};
  for (const [key, value] of Object.entries(decoded)) {
    if (typeof value !== 'object' || value === null) {
      const field = parseField(value, key, { types: {}, env, platform: 'linux', home: '/home/npm' });
      npm[key] = field === undefined ? { undefined: true } : field;
    }
  }
  process.stdout.write(JSON.stringify({ ini: decoded, npm }) + '\n');
});
"""

_JAVA_READER = r"""
import java.io.*;
import java.nio.charset.StandardCharsets;
import java.util.*;

public class PropertiesReader {
    public static void main(String[] args) throws Exception {
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        Base64.Encoder b64 = Base64.getEncoder();
        String line;
        while ((line = in.readLine()) != null) {
            byte[] bytes = Base64.getDecoder().decode(line);
            Properties chars = new Properties();
            chars.load(new StringReader(new String(bytes, StandardCharsets.UTF_8)));
            Properties latin1 = new Properties();
            latin1.load(new ByteArrayInputStream(bytes));
            StringBuilder out = new StringBuilder();
            for (String key : new TreeSet<>(chars.stringPropertyNames())) {
                String other = latin1.getProperty(key);
                out.append(b64.encodeToString(key.getBytes(StandardCharsets.UTF_8))).append(':')
                   .append(b64.encodeToString(chars.getProperty(key).getBytes(StandardCharsets.UTF_8))).append(':')
                   .append(other == null ? "-" : b64.encodeToString(other.getBytes(StandardCharsets.UTF_8)))
                   .append(' ');
            }
            System.out.println(out);
            System.out.flush();
        }
    }
}
"""

#: The environment npm's reader replaces ${NAME} from.
NPM_ENV = {"HOME": "/home/npm", "X": "expanded", "NPM_TOKEN": "from-the-environment"}


class _LineReader:
    """A process that answers one line for each base64 line it is sent."""

    def __init__(self, args: list[str], cwd: str | None = None) -> None:
        self.process = subprocess.Popen(
            args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=cwd
        )

    def ask(self, text: str) -> str:
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write(base64.b64encode(text.encode()).decode() + "\n")
        self.process.stdin.flush()
        answer = self.process.stdout.readline()
        if not answer:
            assert self.process.stderr is not None
            raise RuntimeError(f"the reader died: {self.process.stderr.read()}")
        return answer

    def close(self) -> None:
        if self.process.stdin is not None:
            self.process.stdin.close()
        self.process.wait(timeout=30)


class Npm(_LineReader):
    """npm's reading of an ``.npmrc`` (or of any INI file, through ``ini.parse`` alone)."""

    def read(self, text: str) -> dict[str, Any]:
        """``{"ini": what ini.parse gives, "npm": each top-level value as npm's config takes it}``."""
        answer: dict[str, Any] = json.loads(self.ask(text))
        return answer


def npm() -> Npm | None:
    """npm's reader, or None when node or npm is not installed."""
    node, npm_command = shutil.which("node"), shutil.which("npm")
    if node is None or npm_command is None:
        return None
    root = subprocess.run([npm_command, "root", "-g"], capture_output=True, text=True, timeout=60).stdout.strip()
    if not (Path(root) / "npm" / "node_modules" / "ini").is_dir():
        return None
    return Npm([node, "-e", _NODE_READER, root, json.dumps(NPM_ENV)])


class Java(_LineReader):
    """``java.util.Properties.load``, from a Reader and from an InputStream (ISO 8859-1)."""

    def read(self, text: str) -> dict[str, tuple[str, str | None]]:
        """Each key: (its value read as characters, its value read as ISO 8859-1 bytes)."""
        entries = {}
        for item in self.ask(text).split():
            key, chars, latin1 = item.split(":")
            decoded = None if latin1 == "-" else base64.b64decode(latin1).decode()
            entries[base64.b64decode(key).decode()] = (base64.b64decode(chars).decode(), decoded)
        return entries


def java() -> Java | None:
    """Java's reader, or None when no JDK (java 11 or newer, which runs a source file) is installed."""
    command = shutil.which("java")
    if command is None:
        return None
    folder = tempfile.mkdtemp(prefix="properties-reader-")
    source = Path(folder, "PropertiesReader.java")
    source.write_text(_JAVA_READER)
    reader = Java([command, str(source)], cwd=folder)
    try:
        reader.read("probe=1\n")
    except RuntimeError:
        return None
    return reader
