using System;
using NigGen.Sample;

var net = DigitNet.CreateRandom(seed: 1);
Console.WriteLine(DigitNet.InputLength);
