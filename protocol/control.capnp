# Liandong control protocol: one command from the `liandong` CLI to a daemon
# running on the same data directory, and its answer. ZeroMQ REQ (the CLI)
# -> ROUTER (the daemon) on the control endpoint (ipc:// by default, a
# socket only the node's user can open). One ControlRequest per request
# message (one frame after REQ's envelope), one ControlReply per answer.
#
# Messages are unpacked Cap'n Proto (capnp::messageToFlatArray). The daemon
# reads a request with limits (protocol/control_codec.h): at most
# kMaxControlMessageBytes in all, kMaxControlArgs arguments, kMaxControlFiles
# files, each file at most the bound its caller gives (node/input_files.h:
# kMaxForwardedFileBytes). A request that breaks them, or names one file
# twice, is answered with exit code 2 and one line saying why, and nothing
# is run.

@0xc11c520c2c3e6899;

using Cxx = import "/capnp/c++.capnp";
$Cxx.namespace("liandong::proto");

# A command line without the program name ("submit", "--item", ...), and
# the bytes of every file it names, read by the CLI: the daemon never opens
# a path a command names, so a FIFO or /dev/zero named on the command line
# cannot stall its event loop, and it never reads a file the caller could
# not.
struct ControlRequest {
  args @0 :List(Text);
  files @1 :List(ControlFile);
}

struct ControlFile {
  name @0 :Text;   # as the command line names it
  bytes @1 :Data;
}

# What the command printed and its exit code: 0 done, 1 refused or failed,
# 2 bad input. `out` and `err` are the command's stdout and stderr as bytes
# (text a person reads, UTF-8; the CLI escapes it for the terminal).
struct ControlReply {
  exitCode @0 :Int32;
  out @1 :Data;
  err @2 :Data;
}
