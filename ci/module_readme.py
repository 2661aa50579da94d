"""modules/infrastructure/README.md's Inputs and Outputs tables, generated from the module's
variables and outputs (their descriptions are the one place each is explained).

    python3 -m ci.module_readme           fails, naming the difference, when the README is stale
    python3 -m ci.module_readme --write   rewrites the tables (make module-readme)

It reads the files as `terraform fmt` writes them: blocks open at the start of a line and close
with a lone `}`, attributes two spaces in."""
import glob
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MODULE = os.path.join(ROOT, "modules", "infrastructure")
README = os.path.join(MODULE, "README.md")
BEGIN = "<!-- Inputs and outputs: generated from variables.tf and outputs.tf by make module-readme -->"
END = "<!-- end of generated tables -->"


def blocks(kind):
    """(name, {attribute: text}) for every `kind "name" { ... }` block of the module, in file order."""
    for path in sorted(glob.glob(os.path.join(MODULE, "*.tf"))):
        with open(path) as f:
            text = f.read()
        for match in re.finditer(rf'^{kind} "(\w+)" \{{\n(.*?)^\}}', text, re.M | re.S):
            attributes, current = {}, None
            for line in match.group(2).splitlines():
                top = re.match(r"^  (\w+)\s*=\s*(.*)$", line)
                if top:
                    current = top.group(1)
                    attributes[current] = top.group(2)
                elif re.match(r"^  \w+ \{$", line):  # a nested block (validation)
                    current = None
                elif current is not None:
                    attributes[current] += "\n" + line
            yield match.group(1), attributes


def description(attributes):
    text = attributes.get("description", "").strip()
    heredoc = re.match(r"^<<-?EOT\n(.*)\n\s*EOT$", text, re.S)
    text = heredoc.group(1) if heredoc else text.strip('"').replace('\\"', '"')
    return " ".join(text.split()).replace("|", "\\|")


def type_summary(text):
    text = "".join(text.split())
    if text.startswith("object("):
        return "object"
    wrapped = re.match(r"^(map|list|set)\((.*)\)$", text)
    return f"{wrapped.group(1)}({type_summary(wrapped.group(2))})" if wrapped else text


def default_summary(attributes):
    if "default" not in attributes:
        return "required"
    text = attributes["default"].strip()
    if text == "{}":
        # An object whose attributes default one by one: list them from the type.
        fields = re.findall(r"^    (\w+)\s*=\s*optional\([^,\n]+,\s*(.+)\)$", attributes.get("type", ""), re.M)
        if fields:
            return ", ".join(f"`{name} = {value}`" for name, value in fields)
    return f"`{text}`" if "\n" not in text and len(text) <= 40 else "see description"


def tables():
    lines = [BEGIN, "", "## Inputs", "", "| Name | Type | Default | Description |", "| --- | --- | --- | --- |"]
    for name, attributes in blocks("variable"):
        lines.append(f"| `{name}` | {type_summary(attributes.get('type', 'any'))} | {default_summary(attributes)} "
                     f"| {description(attributes)} |")
    lines += ["", "## Outputs", "", "| Name | Description |", "| --- | --- |"]
    for name, attributes in blocks("output"):
        lines.append(f"| `{name}` | {description(attributes)} |")
    return "\n".join(lines + ["", END])


def main():
    with open(README) as f:
        readme = f.read()
    start, end = readme.find(BEGIN), readme.find(END)
    if start < 0 or end < 0:
        sys.exit(f"module-readme: {README} has no {BEGIN!r} … {END!r} section to hold the tables")
    current, wanted = readme[start:end + len(END)], tables()
    if "--write" in sys.argv[1:]:
        with open(README, "w") as f:
            f.write(readme[:start] + wanted + readme[end + len(END):])
        return 0
    if current != wanted:
        stale = sorted(set(wanted.splitlines()) ^ set(current.splitlines()))
        print(f"module-readme: {README}'s tables differ from the Terraform files (make module-readme rewrites them):",
              *stale[:6], sep="\n  ", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
