"""Builds a service's Lambda package: a stripped, statically linked `bootstrap` in a reproducible
zip, checked to run on Amazon Linux 2023 (provided.al2023).

    python3 -m ci.package --product users-bootstrap --name users --architecture x86_64 --out dist

Writes dist/<name>/bootstrap.zip and dist/<name>/package.json (architecture, sizes, sha256).
Exits non-zero with one line saying what is wrong when a check fails.
"""
import argparse
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import zipfile

from ci import declarations

# Amazon Linux 2023 ships glibc 2.34.
MAX_GLIBC = (2, 34)
# Shared libraries present in the provided.al2023 base image.
AL2023_LIBRARIES = {
    "libc.so.6", "libm.so.6", "libdl.so.2", "libpthread.so.0", "librt.so.1", "libutil.so.1",
    "libgcc_s.so.1", "libstdc++.so.6", "ld-linux-x86-64.so.2", "ld-linux-aarch64.so.1",
}
# Symbols that mean ICU or FoundationInternationalization was linked (tens of MB, slow start).
ICU_MARKERS = re.compile(r"FoundationInternationalization|_FoundationICU|\bucol_open|\bubrk_open|icudt\d+_dat")
ELF_MACHINES = {"Advanced Micro Devices X86-64": "x86_64", "AArch64": "arm64"}
FIXED_TIME = (1980, 1, 1, 0, 0, 0)
# Every service's zip stays under this (today's sizes: the README's make bench-cold table). A
# package over it fails: size is a cold-start cost. --max-zip-bytes sets another budget.
SERVICE_ZIP_BUDGET = 5_000_000


class PackageError(Exception):
    pass


def run(*args, cwd=None):
    result = subprocess.run(args, cwd=cwd, capture_output=True, text=True)
    if result.returncode != 0:
        raise PackageError(f"{' '.join(args)} failed: {result.stderr.strip() or result.stdout.strip()}")
    return result.stdout


def host_architecture():
    machine = os.uname().machine
    return {"x86_64": "x86_64", "aarch64": "arm64", "arm64": "arm64"}.get(machine, machine)


def declared_architecture(service):
    """function.architecture from services/<service>/service.json, the one place it is declared."""
    declaration = declarations.load(service)
    return declaration["function"]["architecture"] if declaration else None


def declared_scopes():
    """Every scope any route of any service declares (services/*/service.json), sorted."""
    return sorted({scope for _, declaration in declarations.every()
                   for route in declaration["routes"].values() for scope in route.get("scopes", [])})


def elf_architecture(binary):
    header = run("readelf", "-h", binary)
    match = re.search(r"Machine:\s+(.+)", header)
    return ELF_MACHINES.get(match.group(1).strip(), match.group(1).strip()) if match else "unknown"


def glibc_versions(binary):
    symbols = run("objdump", "-T", binary)
    versions = {}
    for line in symbols.splitlines():
        match = re.search(r"\(?GLIBC_(\d+)\.(\d+)(?:\.\d+)?\)?\s+(\S+)$", line)
        if match and "*UND*" in line:
            versions.setdefault((int(match.group(1)), int(match.group(2))), []).append(match.group(3))
    return versions


def needed_libraries(binary):
    return re.findall(r"\(NEEDED\)\s+Shared library: \[(.+?)\]", run("readelf", "-d", binary))


def check_binary(binary, architecture):
    """Raises PackageError naming every reason the binary would not load on AL2023.
    Returns the highest GLIBC version it needs."""
    problems = []
    arch = elf_architecture(binary)
    if arch != architecture:
        problems.append(f"bootstrap is {arch} but the service declares {architecture} "
                        f"(set function.architecture in service.json or build on a {architecture} machine)")
    versions = glibc_versions(binary)
    too_new = {v: syms for v, syms in versions.items() if v > MAX_GLIBC}
    if too_new:
        detail = ", ".join(f"{s}@GLIBC_{v[0]}.{v[1]}" for v, syms in sorted(too_new.items()) for s in syms)
        problems.append(f"it needs glibc newer than 2.34 (Amazon Linux 2023): {detail} "
                        "(shim the symbol in shared/Sources/CGlibcCompat)")
    unknown = [lib for lib in needed_libraries(binary) if lib not in AL2023_LIBRARIES]
    if unknown:
        problems.append(f"it links libraries provided.al2023 does not have: {', '.join(unknown)} "
                        "(link them statically or drop the dependency)")
    symbols = run("nm", "--defined-only", binary) + run("nm", "-D", binary)
    icu = ICU_MARKERS.search(symbols)
    if icu:
        problems.append(f"it links ICU / FoundationInternationalization ({icu.group(0)}) "
                        "(import FoundationEssentials instead of Foundation)")
    if problems:
        raise PackageError("; ".join(problems))
    return max(versions) if versions else None


def release_flags(package_path):
    """Release, static stdlib, and the checkout's absolute path mapped to `.`: it would otherwise
    end up in the binary (#file, __FILE__ in C), and the same source built in two directories would
    give two zips.

    The static stdlib's link arguments export every symbol of our objects (`-export-dynamic`), which
    nothing looks up in a stripped bootstrap: `--no-export-dynamic` and `--gc-sections` drop them.
    Swift at -Osize is smaller and starts as fast; C (BoringSSL) stays at -O2, since its handshake
    code is on the first DynamoDB answer's path. The figures: the README's make bench-cold table."""
    remap = f"{os.path.abspath(package_path)}=."
    return ["-c", "release", "--static-swift-stdlib", "-Xswiftc", "-Osize",
            "-Xlinker", "--gc-sections", "-Xlinker", "--no-export-dynamic",
            "-Xswiftc", "-file-prefix-map", "-Xswiftc", remap,
            "-Xcc", f"-ffile-prefix-map={remap}", "-Xcxx", f"-ffile-prefix-map={remap}"]


# Sections a packaged bootstrap never reads, removed after the link:
# - .swift_modhash and the build id hash the build directory's state, not the program: without
#   them the same source gives the same bytes in any checkout.
# - the unwind tables (.eh_frame, its index .eh_frame_hdr, and C++'s .gcc_except_table): Swift
#   errors are return values and Swift tasks never unwind, BoringSSL is C built without
#   exceptions, and nothing linked catches a C++ exception, so they serve only crash backtraces,
#   which a stripped binary shows as bare addresses anyway. Every contract corpus replays against
#   these packages (make contract).
UNREAD_SECTIONS = {".swift_modhash", ".note.gnu.build-id", ".eh_frame", ".eh_frame_hdr", ".gcc_except_table"}


def section_names(binary):
    return set(re.findall(r"^\s*\[\s*\d+\]\s+(\S+)", run("readelf", "-SW", binary), re.M))


def strip(binary):
    """Symbols and the unread sections out, in place; checked."""
    run("strip", "--strip-all", *(f"--remove-section={section}" for section in sorted(UNREAD_SECTIONS)), binary)
    left = UNREAD_SECTIONS & section_names(binary)
    if left:
        raise PackageError(f"strip left {', '.join(sorted(left))} in {binary}")


def reproducible_zip(files, destination):
    """Zips {name: path} with fixed timestamps, order and permissions: same input, same bytes."""
    with zipfile.ZipFile(destination, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for name in sorted(files):
            info = zipfile.ZipInfo(name, date_time=FIXED_TIME)
            info.external_attr = (0o100755 << 16)
            info.create_system = 3  # Unix, so the permissions apply
            info.compress_type = zipfile.ZIP_DEFLATED
            with open(files[name], "rb") as source:
                archive.writestr(info, source.read(), compresslevel=9)


def sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--product", help="the SwiftPM executable product to package")
    parser.add_argument("--name", help="package name (the service)")
    parser.add_argument("--architecture", default=None, help="x86_64 or arm64 (default: function.architecture in services/NAME/service.json, else the host)")
    parser.add_argument("--package-path", default=".", help="SwiftPM package that builds the product")
    parser.add_argument("--out", default="dist")
    parser.add_argument("--max-zip-bytes", type=int, default=SERVICE_ZIP_BUDGET)
    parser.add_argument("--skip-build", action="store_true", help="package the binary already built")
    parser.add_argument("--print-build-flags", action="store_true",
                        help="print the release build's flags (for other release builds sharing .build) and exit")
    parser.add_argument("--print-scopes", action="store_true",
                        help="print every scope the services' routes declare, one per line, and exit")
    parser.add_argument("--forbid-regex", action="store_true",
                        help="fail if the Swift regex engine is linked (~0.5 MB zipped; String.contains(String) pulls it in)")
    args = parser.parse_args()

    if args.print_scopes:
        print("\n".join(declared_scopes()))
        return
    if args.print_build_flags:
        print(" ".join(release_flags(args.package_path)))
        return
    if not args.product or not args.name:
        parser.error("name what to package: --product users-bootstrap --name users")
    architecture = args.architecture or declared_architecture(args.name) or host_architecture()
    if architecture != host_architecture():
        raise PackageError(f"{args.name} declares {architecture} but this machine builds {host_architecture()}; "
                           f"use a {architecture} runner (CI variable LAMBDA_ARCHITECTURE) or change service.json")
    build = ["swift", "build", "--product", args.product, "--package-path", args.package_path,
             *release_flags(args.package_path)]
    if not args.skip_build:
        subprocess.run(build, check=True, stdout=sys.stderr)
    bin_dir = run(*build, "--show-bin-path").strip()
    built = os.path.join(bin_dir, args.product)
    glibc = check_binary(built, architecture)
    if args.forbid_regex and "_RegexParser" in run("nm", built):
        raise PackageError(f"{args.name} links the regex engine (_StringProcessing): use containsText/utf8Offset(of:) "
                           "from LambdaRuntime instead of String.contains(String) or firstRange(of:)")

    out = os.path.join(args.out, args.name)
    os.makedirs(out, exist_ok=True)
    bootstrap = os.path.join(out, "bootstrap")
    shutil.copyfile(built, bootstrap)
    strip(bootstrap)
    os.chmod(bootstrap, 0o755)
    archive = os.path.join(out, "bootstrap.zip")
    reproducible_zip({"bootstrap": bootstrap}, archive)

    manifest = {
        "name": args.name,
        "product": args.product,
        "architecture": architecture,
        "runtime": "provided.al2023",
        "bootstrapBytes": os.path.getsize(bootstrap),
        "zipBytes": os.path.getsize(archive),
        "sha256": sha256(archive),
        "maxGlibc": f"{glibc[0]}.{glibc[1]}" if glibc else None,
    }
    with open(os.path.join(out, "package.json"), "w") as f:
        json.dump(manifest, f, indent=2)
        f.write("\n")
    if manifest["zipBytes"] > args.max_zip_bytes:
        raise PackageError(f"{args.name}: bootstrap.zip is {manifest['zipBytes']} bytes, over the "
                           f"{args.max_zip_bytes}-byte budget")
    print(f"{args.name}: {manifest['zipBytes'] / 1e6:.2f} MB zip ({manifest['bootstrapBytes'] / 1e6:.2f} MB bootstrap), "
          f"{architecture}, glibc ≤ {manifest['maxGlibc']}, sha256 {manifest['sha256'][:16]}…")


if __name__ == "__main__":
    try:
        main()
    except PackageError as error:
        print(f"package: {error}", file=sys.stderr)
        sys.exit(1)
