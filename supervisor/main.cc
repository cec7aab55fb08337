#include <iostream>

#include "ffpod_version.h"

int main() {
  std::cout << "ffpod " << ffpod::kVersion << "\n";
  return 0;
}
