using System;
using NigGen.Sample.Cli;

// NigGen sample: a regulatory-genomics model trained, scored and explained in-process. See docs/SAMPLE.md.
//   dotnet run --project NigGen.Sample -c Release              the whole job on defaults (simulate, train, score, report)
//   dotnet run --project NigGen.Sample -c Release -- --help    the subcommands: train, simulate, score, explain, report
return SampleCommandLine.Run(args, Console.Out, Console.Error, Console.In, ProgressBar.StandardErrorIsTerminal);
