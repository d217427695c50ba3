// heliosdb-conversational-bi: see app/cli.cc for the commands.
#include "app/cli.h"

int main(int argc, char** argv) { return helios::app::RunCli(argc, argv); }
