using Calloop.Rx.Samples.AdaptIo;
using Calloop.Rx.Samples.Async;

// dotnet run --project Calloop.Rx.Samples -- <name> [args...]
return args.Length == 0 ? Usage() : args[0] switch
{
    "async" => AsyncSample.Run(args[1..], Console.Out),
    "adapt-io" => AdaptIoSample.Run(args[1..], Console.Out),
    _ => Usage(),
};

static int Usage()
{
    Console.Error.WriteLine("usage: Calloop.Rx.Samples <async | adapt-io> [args...]");
    return 2;
}
