// The ordinary-build form of a fuzz target: replays files, or every file
// under directories, through the target's LLVMFuzzerTestOneInput. ctest runs
// it over the target's seed corpus (tests/fuzz/fuzz.cmake), so a seed or a
// fixed crash reproducer that breaks again fails the ordinary test run.
//
// Exit status: 0 when every input ran; 1 when no input was found or a file
// cannot be read. A crash in the target crashes this process.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

int main(int argc, char** argv) {
  namespace fs = std::filesystem;
  std::vector<fs::path> files;
  for (int i = 1; i < argc; ++i) {
    const fs::path arg(argv[i]);
    if (fs::is_directory(arg)) {
      for (const auto& e : fs::recursive_directory_iterator(arg)) {
        if (e.is_regular_file()) files.push_back(e.path());
      }
    } else {
      files.push_back(arg);
    }
  }
  std::sort(files.begin(), files.end());
  if (files.empty()) {
    std::cerr << "replay: no inputs (usage: " << argv[0] << " FILE-OR-DIR...)\n";
    return 1;
  }
  for (const auto& f : files) {
    std::ifstream in(f, std::ios::binary);
    const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (in.bad() || !fs::exists(f)) {
      std::cerr << "replay: cannot read " << f << "\n";
      return 1;
    }
    // An exact-size heap copy, as libFuzzer passes it, so that an overread
    // shows under a sanitizer build.
    auto data = std::make_unique<uint8_t[]>(bytes.size() + 1);
    std::memcpy(data.get(), bytes.data(), bytes.size());
    std::cout << "replay: " << f.filename().string() << " (" << bytes.size() << " bytes)\n";
    LLVMFuzzerTestOneInput(data.get(), bytes.size());
  }
  std::cout << "replay: " << files.size() << " inputs ran\n";
  return 0;
}
