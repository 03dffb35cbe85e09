namespace RdBridge.Pickles;

/// <summary>
/// A pickle RdBridge does not read: corrupt, outside the plain-data subset, or not the object the caller expected.
/// It is a <see cref="FormatException"/> so callers that already treat unreadable input as such keep working.
/// </summary>
public class PickleException : FormatException
{
    public PickleException(string message) : base(message) { }
}

/// <summary>
/// A pickle that ends before its STOP opcode. RD-Agent and Qlib may still be writing the file, so a caller should try
/// again later rather than report it as corrupt.
/// </summary>
public sealed class TruncatedPickleException : PickleException
{
    public TruncatedPickleException(string message) : base(message) { }
}
