using System.Net;
using System.Net.Sockets;
using System.Text;

namespace RdBridge.Tests.Safety;

/// <summary>
/// A misbehaving HTTP peer on 127.0.0.1, written at the socket so it can do what no real server would (stall, never
/// end a body): it accepts every connection, reads the request's head and hands the stream to <see cref="Answer"/>.
/// A client hanging up is what such a peer is for, so it ends the connection quietly.
/// </summary>
internal abstract class RawHttpPeer : IDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    public int Port { get; }
    /// <summary>Cancelled when the test is done with the peer.</summary>
    protected CancellationToken Stopping => _stop.Token;

    protected RawHttpPeer()
    {
        _listener.Start();
        Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
    }

    /// <summary>Starts accepting; called by the subclass once its own fields are set.</summary>
    protected void Listen() => _ = Task.Run(async () =>
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try { client = await _listener.AcceptTcpClientAsync(_stop.Token); }
            catch (Exception) { return; }
            _ = Task.Run(() => Serve(client));
        }
    });

    /// <summary>What the peer sends once it has the request's head.</summary>
    protected abstract Task Answer(NetworkStream stream);

    private async Task Serve(TcpClient client)
    {
        using (client)
        {
            try
            {
                var stream = client.GetStream();
                var request = new byte[8192];
                var got = 0;
                while (!Encoding.ASCII.GetString(request, 0, got).Contains("\r\n\r\n"))
                    got += await stream.ReadAsync(request.AsMemory(got));
                await Answer(stream);
            }
            catch (Exception) { } // the client hung up: what it is meant to do
        }
    }

    public void Dispose()
    {
        _stop.Cancel();
        _listener.Stop();
    }
}
