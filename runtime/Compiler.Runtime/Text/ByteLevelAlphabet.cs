namespace Compiler.Runtime.Text;

/// <summary>
/// GPT-2's reversible byte &lt;-&gt; char map used by byte-level BPE: printable Latin-1 bytes map to themselves,
/// the other 68 bytes (controls, space, 0x7F-0xA0, 0xAD) to U+0100 + n in byte order, so every vocab entry is a
/// printable string.
/// </summary>
internal static class ByteLevelAlphabet
{
    /// <summary>Byte -&gt; char.</summary>
    public static readonly char[] ByteToChar = BuildByteToChar();

    /// <summary>Char (&lt; U+0144) -&gt; byte, or -1 for chars outside the alphabet.</summary>
    private static readonly short[] CharToByteTable = BuildCharToByte();

    /// <summary>The byte a char stands for, or -1 when the char is not in the alphabet.</summary>
    public static int CharToByte(char c) => c < CharToByteTable.Length ? CharToByteTable[c] : -1;

    private static bool IsPrintable(int b) => (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);

    private static char[] BuildByteToChar()
    {
        var map = new char[256];
        int n = 0;
        for (int b = 0; b < 256; b++) map[b] = IsPrintable(b) ? (char)b : (char)(256 + n++);
        return map;
    }

    private static short[] BuildCharToByte()
    {
        var map = new short[256 + 68];
        Array.Fill(map, (short)-1);
        for (int b = 0; b < 256; b++) map[ByteToChar[b]] = (short)b;
        return map;
    }
}
