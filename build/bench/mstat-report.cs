// What is in the NativeAOT `sealer`: reads the .mstat file ILCompiler writes with -p:IlcGenerateMstatFile=true and
// sums the bytes of compiled code (methods + GC info + EH info) and of type structures (MethodTables) per assembly,
// plus the other blobs (frozen data, metadata, reflection maps...) by kind. Only System.Reflection.Metadata (in the BCL).
//   dotnet run build/bench/mstat-report.cs -- OBJDIR/sealer.mstat [TOP] [--methods PREFIX] [--ns ASSEMBLY] [--blobs KIND]
// The .mstat lies next to the object file: src/Sealer.Cli/obj/Release/net10.0/linux-x64/native/sealer.mstat.
// Format (ILCompiler MstatObjectDumper, version 2): the global type's methods "Types" (ldtoken type, size, name index),
// "Methods" (ldtoken method, size, gcinfo, ehinfo, name index) and "Blobs" (ldstr name, size) hold the data as IL.
// Generic instantiations are counted for the assembly that defines the generic type or method (as sizoscope does).
using System.Collections.Immutable;
using System.Reflection.Metadata;
using System.Reflection.Metadata.Ecma335;
using System.Reflection.PortableExecutable;

if (args.Length == 0)
{
    Console.Error.WriteLine("usage: mstat-report.cs FILE.mstat [TOP] [--methods PREFIX] [--ns ASSEMBLY] [--blobs KIND]");
    return 2;
}
var top = args.Length > 1 && int.TryParse(args[1], out var t) ? t : 25;
string? methodsOf = null, nsOf = null, blobsOf = null;
for (var i = 1; i < args.Length - 1; i++)
{
    if (args[i] == "--methods") methodsOf = args[i + 1];
    if (args[i] == "--ns") nsOf = args[i + 1];
    if (args[i] == "--blobs") blobsOf = args[i + 1];
}

using var pe = new PEReader(File.OpenRead(args[0]));
var md = pe.GetMetadataReader();
var version = md.GetAssemblyDefinition().Version;
var global = md.GetTypeDefinition(MetadataTokens.TypeDefinitionHandle(1));
var bodies = new Dictionary<string, ImmutableArray<byte>>();
foreach (var mh in global.GetMethods())
{
    var m = md.GetMethodDefinition(mh);
    bodies[md.GetString(m.Name)] = pe.GetMethodBody(m.RelativeVirtualAddress).GetILContent();
}

var codeByAsm = new Dictionary<string, long>();
var typesByAsm = new Dictionary<string, long>();
var codeByNs = new Dictionary<string, long>();
var methodRows = new List<(string Name, long Size)>();
long codeTotal = 0, typesTotal = 0;

foreach (var row in Rows(bodies["Methods"]))
{
    var size = (long)row.Ints[0] + row.Ints[1] + row.Ints[2];
    var (asm, type) = Owner(row.Token);
    Add(codeByAsm, asm, size);
    codeTotal += size;
    if (nsOf is not null && asm == nsOf) Add(codeByNs, Namespace(type), size);
    if (methodsOf is not null) methodRows.Add(($"{asm}!{type}::{MethodName(row.Token)}", size));
}
foreach (var row in Rows(bodies["Types"]))
{
    var (asm, type) = Owner(row.Token);
    Add(typesByAsm, asm, row.Ints[0]);
    typesTotal += row.Ints[0];
    if (nsOf is not null && asm == nsOf) Add(codeByNs, Namespace(type), row.Ints[0]);
}
var blobs = new Dictionary<string, long>();
var blobRows = new List<(string Name, long Size)>();
long blobTotal = 0;
foreach (var row in Rows(bodies["Blobs"]))
{
    // Node names like "__FrozenString_..." or "_embedded_metadata": group by the part before digits/underscores.
    var kind = BlobKind(row.Name!);
    Add(blobs, kind, row.Ints[0]);
    if (blobsOf is not null && kind == blobsOf) blobRows.Add((row.Name!, row.Ints[0]));
    blobTotal += row.Ints[0];
}

Console.WriteLine($"mstat {version.Major}.{version.Minor}: code {codeTotal:N0} B, types {typesTotal:N0} B, blobs {blobTotal:N0} B, total {codeTotal + typesTotal + blobTotal:N0} B");
Console.WriteLine();
Console.WriteLine("| assembly | code (B) | types (B) | sum (B) |");
Console.WriteLine("|---|---:|---:|---:|");
foreach (var a in codeByAsm.Keys.Union(typesByAsm.Keys).OrderByDescending(a => codeByAsm.GetValueOrDefault(a) + typesByAsm.GetValueOrDefault(a)).Take(top))
    Console.WriteLine($"| {a} | {codeByAsm.GetValueOrDefault(a):N0} | {typesByAsm.GetValueOrDefault(a):N0} | {codeByAsm.GetValueOrDefault(a) + typesByAsm.GetValueOrDefault(a):N0} |");
Console.WriteLine();
Console.WriteLine("| blob kind | size (B) |");
Console.WriteLine("|---|---:|");
foreach (var b in blobs.OrderByDescending(b => b.Value).Take(top))
    Console.WriteLine($"| {b.Key} | {b.Value:N0} |");
if (nsOf is not null)
{
    Console.WriteLine();
    Console.WriteLine($"| namespace in {nsOf} | code + types (B) |");
    Console.WriteLine("|---|---:|");
    foreach (var n in codeByNs.OrderByDescending(n => n.Value).Take(top))
        Console.WriteLine($"| {n.Key} | {n.Value:N0} |");
}
if (methodsOf is not null)
{
    Console.WriteLine();
    foreach (var m in methodRows.Where(m => m.Name.StartsWith(methodsOf, StringComparison.Ordinal)).OrderByDescending(m => m.Size).Take(top))
        Console.WriteLine($"{m.Size,9:N0}  {m.Name}");
}
if (blobsOf is not null)
{
    Console.WriteLine();
    foreach (var b in blobRows.OrderByDescending(b => b.Size).Take(top))
        Console.WriteLine($"{b.Size,9:N0}  {b.Name}");
}
return 0;

static void Add(Dictionary<string, long> d, string k, long v) => d[k] = d.GetValueOrDefault(k) + v;

static string Namespace(string type)
{
    var dot = type.LastIndexOf('.');
    return dot < 0 ? "(global)" : type[..dot];
}

static string BlobKind(string name)
{
    var end = 0;
    while (end < name.Length && !char.IsDigit(name[end]) && name[end] != ' ' && name[end] != '<') end++;
    var kind = name[..end].TrimEnd('_');
    return kind.Length == 0 ? name : kind;
}

// The IL of one of the global methods, cut into rows: a row starts at ldtoken or ldstr and takes the ldc.i4 after it.
IEnumerable<(EntityHandle Token, string? Name, int[] Ints)> Rows(ImmutableArray<byte> il)
{
    var bytes = il.ToArray();
    var pos = 0;
    EntityHandle token = default;
    string? name = null;
    var ints = new List<int>();
    var started = false;
    while (pos < bytes.Length)
    {
        var op = bytes[pos++];
        int? value = null;
        switch (op)
        {
            case 0xD0: // ldtoken
            case 0x72: // ldstr
                if (started) yield return (token, name, ints.ToArray());
                started = true;
                ints.Clear();
                var tok = BitConverter.ToInt32(bytes, pos);
                pos += 4;
                if (op == 0xD0) { token = (EntityHandle)MetadataTokens.Handle(tok); name = null; }
                else { token = default; name = md.GetUserString(MetadataTokens.UserStringHandle(tok & 0xFFFFFF)); }
                break;
            case 0x20: value = BitConverter.ToInt32(bytes, pos); pos += 4; break; // ldc.i4
            case 0x1F: value = (sbyte)bytes[pos]; pos += 1; break;               // ldc.i4.s
            case 0x15: value = -1; break;                                           // ldc.i4.m1
            case >= 0x16 and <= 0x1E: value = op - 0x16; break;                    // ldc.i4.0..8
            case 0x2A: break;                                                        // ret
            default: throw new InvalidDataException($"unexpected IL opcode 0x{op:X2} at {pos - 1}");
        }
        if (value is { } v) ints.Add(v);
    }
    if (started) yield return (token, name, ints.ToArray());
}

(string Asm, string Type) Owner(EntityHandle h)
{
    switch (h.Kind)
    {
        case HandleKind.TypeReference:
        {
            var tr = md.GetTypeReference((TypeReferenceHandle)h);
            var name = md.GetString(tr.Namespace) is { Length: > 0 } ns ? ns + "." + md.GetString(tr.Name) : md.GetString(tr.Name);
            return tr.ResolutionScope.Kind switch
            {
                HandleKind.AssemblyReference => (md.GetString(md.GetAssemblyReference((AssemblyReferenceHandle)tr.ResolutionScope).Name), name),
                HandleKind.TypeReference => Owner(tr.ResolutionScope) is var o ? (o.Asm, o.Type + "+" + name) : default,
                _ => ("?", name),
            };
        }
        case HandleKind.TypeSpecification:
        {
            var sig = md.GetBlobReader(md.GetTypeSpecification((TypeSpecificationHandle)h).Signature);
            return FirstNamed(ref sig);
        }
        case HandleKind.MemberReference:
            return Owner(md.GetMemberReference((MemberReferenceHandle)h).Parent);
        case HandleKind.MethodSpecification:
            return Owner(md.GetMethodSpecification((MethodSpecificationHandle)h).Method);
        default:
            return ("?", h.Kind.ToString());
    }
}

string MethodName(EntityHandle h) => h.Kind switch
{
    HandleKind.MemberReference => md.GetString(md.GetMemberReference((MemberReferenceHandle)h).Name),
    HandleKind.MethodSpecification => MethodName(md.GetMethodSpecification((MethodSpecificationHandle)h).Method) + "<>",
    _ => "?",
};

// The first type named in a type signature: the generic definition of an instantiation, the element of an array.
(string Asm, string Type) FirstNamed(ref BlobReader sig)
{
    while (true)
    {
        var code = (SignatureTypeCode)sig.ReadByte();
        switch (code)
        {
            case SignatureTypeCode.GenericTypeInstance:
                continue; // next: CLASS/VALUETYPE + the generic definition
            case (SignatureTypeCode)0x12: // class
            case (SignatureTypeCode)0x11: // valuetype
                return Owner(sig.ReadTypeHandle());
            case SignatureTypeCode.SZArray:
            case SignatureTypeCode.Pointer:
            case SignatureTypeCode.ByReference:
            case SignatureTypeCode.Array:
                continue;
            case SignatureTypeCode.FunctionPointer:
                return ("System.Private.CoreLib", "fnptr");
            default:
                return ("System.Private.CoreLib", code.ToString()); // primitives
        }
    }
}
