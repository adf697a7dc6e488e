// Which sanitizer this translation unit is built with, for clang (__has_feature) and g++
// (__SANITIZE_*__) alike. Macros, defined to 1 or not at all:
//   ICS_ASAN              AddressSanitizer
//   ICS_LSAN              LeakSanitizer's interface is there (ASan, or -fsanitize=leak)
//   ICS_SANITIZER_HEAP    the allocator is a sanitizer's (ASan, LSan, TSan or MSan): it keeps
//                         allocation statistics and calls malloc/free hooks
#pragma once

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define ICS_ASAN 1
#endif
#if __has_feature(address_sanitizer) || __has_feature(leak_sanitizer)
#define ICS_LSAN 1
#endif
#if __has_feature(address_sanitizer) || __has_feature(leak_sanitizer) || \
    __has_feature(thread_sanitizer) || __has_feature(memory_sanitizer)
#define ICS_SANITIZER_HEAP 1
#endif
#endif

#if defined(__SANITIZE_ADDRESS__)
#ifndef ICS_ASAN
#define ICS_ASAN 1
#endif
#ifndef ICS_LSAN
#define ICS_LSAN 1
#endif
#endif
#if (defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)) && !defined(ICS_SANITIZER_HEAP)
#define ICS_SANITIZER_HEAP 1
#endif
