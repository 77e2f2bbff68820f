using System.Buffers.Binary;
using System.Text;

namespace Calloop.Rx.Tests.ZeroMQ;

/// <summary>Building and reading multipart messages in tests.</summary>
public static class Frames
{
    public static byte[][] Of(params string[] parts) => [.. parts.Select(Encoding.UTF8.GetBytes)];

    public static string Text(this byte[][] message, int index = 0) => Encoding.UTF8.GetString(message[index]);

    public static string[] Texts(this byte[][] message) => [.. message.Select(frame => Encoding.UTF8.GetString(frame))];

    public static byte[] Int(int value)
    {
        byte[] frame = new byte[4];
        BinaryPrimitives.WriteInt32LittleEndian(frame, value);
        return frame;
    }

    public static int Int(this byte[][] message, int index) => BinaryPrimitives.ReadInt32LittleEndian(message[index]);
}
