// One three-node cluster at a time: several at once would starve each other of the machine's cores.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
