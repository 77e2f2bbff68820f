using System.Buffers.Binary;
using System.Text;

namespace Calloop.Rx.Interop;

/// <summary>
/// One inotify instance (non-blocking, close-on-exec) and the parsing of what it reads. Calls hold a reference on
/// the handle, so a call racing the close gets EBADF rather than touching a reused fd number.
/// </summary>
internal sealed class Inotify : IDisposable
{
    public const uint Modify = 0x2;
    public const uint Attrib = 0x4;
    public const uint MovedFrom = 0x40;
    public const uint MovedTo = 0x80;
    public const uint Create = 0x100;
    public const uint Delete = 0x200;
    public const uint DeleteSelf = 0x400;
    public const uint QueueOverflow = 0x4000;
    public const uint Ignored = 0x8000;
    public const uint DontFollow = 0x0200_0000;
    public const uint ExclUnlink = 0x0400_0000;
    public const uint IsDir = 0x4000_0000;

    /// <summary>sizeof(struct inotify_event) without its name.</summary>
    public const int HeaderSize = 16;

    /// <summary>Room for many records per read; at least one record with the longest name (NAME_MAX = 255) and its NUL.</summary>
    public const int BufferSize = 64 * 1024;

    private const int CloexecNonblock = 0x80000 | 0x800;

    private readonly FdHandle _handle;

    public Inotify(string owner)
    {
        int fd = NativeMethods.InotifyInit1(CloexecNonblock);
        if (fd < 0)
        {
            throw new LoopException("inotify_init1", Sys.Errno, -1, owner);
        }

        _handle = new FdHandle(fd);
    }

    public static int ENOSPC => Tmds.Linux.LibC.ENOSPC;
    public static int ENOTDIR => Tmds.Linux.LibC.ENOTDIR;
    public static int EACCES => Tmds.Linux.LibC.EACCES;
    public static int EMFILE => Tmds.Linux.LibC.EMFILE;

    public FdHandle Handle => _handle;

    /// <summary>inotify_add_watch: the watch descriptor, or -1 with <paramref name="errno"/>.</summary>
    public int AddWatch(string path, uint mask, out int errno)
    {
        bool added = false;
        try
        {
            _handle.DangerousAddRef(ref added);
            int wd = NativeMethods.InotifyAddWatch(_handle.Fd, path, mask);
            errno = wd < 0 ? Sys.Errno : 0;
            return wd;
        }
        catch (ObjectDisposedException)
        {
            errno = Sys.EBADF;
            return -1;
        }
        finally
        {
            if (added)
            {
                _handle.DangerousRelease();
            }
        }
    }

    /// <summary>inotify_rm_watch, ignoring failure: a watch the kernel already dropped (its inode is gone) is simply gone.</summary>
    public void RemoveWatch(int wd)
    {
        bool added = false;
        try
        {
            _handle.DangerousAddRef(ref added);
            NativeMethods.InotifyRmWatch(_handle.Fd, wd);
        }
        catch (ObjectDisposedException)
        {
            // Closed with the loop: every watch went with it.
        }
        finally
        {
            if (added)
            {
                _handle.DangerousRelease();
            }
        }
    }

    /// <summary>read(2) of whole records into <paramref name="buffer"/>: the bytes read, or -1 with <paramref name="errno"/> (EAGAIN when empty).</summary>
    public int Read(Span<byte> buffer, out int errno)
    {
        bool added = false;
        try
        {
            _handle.DangerousAddRef(ref added);
            return FdIo.Read(_handle.Fd, buffer, out errno);
        }
        catch (ObjectDisposedException)
        {
            errno = Sys.EBADF;
            return -1;
        }
        finally
        {
            if (added)
            {
                _handle.DangerousRelease();
            }
        }
    }

    /// <summary>
    /// Parses the record at <paramref name="offset"/> of what one read returned and moves past it. False at the end,
    /// or when the rest is not a whole record (the kernel never splits one, so that is only a defensive stop).
    /// </summary>
    public static bool TryParse(ReadOnlySpan<byte> data, ref int offset, out InotifyRecord record)
    {
        record = default;
        if (data.Length - offset < HeaderSize)
        {
            return false;
        }

        ReadOnlySpan<byte> header = data.Slice(offset, HeaderSize);
        int length = (int)BinaryPrimitives.ReadUInt32LittleEndian(header[12..]);
        if (length < 0 || length > data.Length - offset - HeaderSize)
        {
            return false;
        }

        // The name is NUL-padded to an alignment boundary; an event about the watched item itself has none.
        ReadOnlySpan<byte> name = data.Slice(offset + HeaderSize, length);
        int end = name.IndexOf((byte)0);
        record = new InotifyRecord(
            BinaryPrimitives.ReadInt32LittleEndian(header),
            BinaryPrimitives.ReadUInt32LittleEndian(header[4..]),
            BinaryPrimitives.ReadUInt32LittleEndian(header[8..]),
            end == 0 || length == 0 ? string.Empty : Encoding.UTF8.GetString(end < 0 ? name : name[..end]));
        offset += HeaderSize + length;
        return true;
    }

    public void Dispose() => _handle.Dispose();
}
