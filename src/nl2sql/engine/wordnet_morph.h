// WordNet's morphology ("Morphy") for nouns and verbs, answered from memory: the dictionary
// form libwordnet's morphstr() gives for a word or collocation ("customers" -> "customer",
// "sold" -> "sell", "looked up" -> "look_up"). The lexicon's Lemma() asks it for every word it
// has not seen, so the four files it needs (index.noun, index.verb, noun.exc, verb.exc) are read
// once; libwordnet instead binary-searches them on disk for every lookup, under a lock.
// tests/engine/wordnet_morph_test.cc compares the answers with libwordnet's own.
// Thread-safety: a WordNetMorphology is immutable once loaded; BaseForm() may be called from any
// number of threads at once. WordNetDictDir() reads the environment (getenv).
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "common/error.h"

namespace helios::nl2sql::engine {

enum class WordNetPos { kNoun, kVerb };

// The dictionary directory libwordnet's wninit() opens: $WNSEARCHDIR when set, else
// $WNHOME/dict, else the directory Debian's libwordnet was built with, /usr/share/wordnet.
// A null argument is an unset variable.
std::string WordNetDictDir(const char* wnsearchdir, const char* wnhome);
// The same for this process's environment.
std::string WordNetDictDir();

class WordNetMorphology {
 public:
  // Reads the noun and verb index and exception files of the dictionary in `dict_dir` (about
  // 5 MB of text, some 3 MB held, 20 ms); kUnavailable naming the file when one cannot be read.
  static Result<std::unique_ptr<const WordNetMorphology>> Load(const std::string& dict_dir);

  // The first base form morphstr(word, pos) returns (its first call for `word`), nullopt where
  // it returns NULL: the exception list first, then the detachment rules ("-ies" -> "-y", ...)
  // checked against the index, then collocations word by word ('_', '-' or ' ' between words;
  // a verb followed by a preposition is inflected alone). Upper case is folded and anything from
  // a '(' on is dropped, as libwordnet does. Words longer than libwordnet's 255 characters have
  // no base form; where libwordnet would overrun a buffer and abort (a collocation whose base
  // form grows past 255 characters), this answers nullopt.
  std::optional<std::string> BaseForm(std::string_view word, WordNetPos pos) const;

  // Bytes held for the dictionary (its words and the tables over them).
  size_t MemoryBytes() const;

  ~WordNetMorphology();

 private:
  struct Dictionary;
  explicit WordNetMorphology(std::unique_ptr<const Dictionary> dictionary);

  std::unique_ptr<const Dictionary> dictionary_;
};

}  // namespace helios::nl2sql::engine
