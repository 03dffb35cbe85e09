using RdBridge.IO;

namespace RdBridge.Catalogs;

/// <summary>
/// What makes two factor records the same factor: the source plus the expression with white space removed and case
/// folded (else the code's fingerprint, else the name). Used by export and by import of older catalogs alike.
/// </summary>
public static class FactorIdentity
{
    public static string Fingerprint(string source, string? expression, string? codeFingerprint, string name)
    {
        var basis = expression is not null
            ? "expr:" + string.Concat(expression.Where(c => !char.IsWhiteSpace(c))).ToLowerInvariant()
            : codeFingerprint is not null ? "code:" + codeFingerprint
            : "name:" + name;
        return FileDigest.Sha256OfText(source + "|" + basis);
    }

    public static string FactorId(string fingerprint) => "factor_" + fingerprint[..16];
}
