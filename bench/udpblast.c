/*
 * udpblast: 64-byte IPv4/UDP frames out of one interface, for the data-plane
 * benchmark (bench/datapath-chain.ts compiles it with gcc at bench time).
 *
 * Why not trafgen: its TX_RING builds non-linear skbs, which sends every nft
 * payload load through skb_copy_bits and distorts the result (calibration,
 * pitfall 1). A plain AF_PACKET send() of a frame under a page gives a linear
 * skb, like a NIC would; sendmmsg amortises the syscall.
 *
 * Bounded by a packet count AND a time limit; SIGTERM/SIGINT stop it early.
 * On exit it prints "sent N failed M" on stdout.
 *
 *   udpblast IFNAME DST_MAC SRC_MAC SRC_IP DST_IP DPORT MAX_PACKETS MAX_SECONDS [CPU|-1] [PPS|0]
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define FRAME_LEN 64 /* 14 Ethernet + 20 IPv4 + 8 UDP + 22 payload; veth carries no FCS */
#define BATCH 64

static volatile sig_atomic_t stop;
static void on_signal(int sig) { (void)sig; stop = 1; }

static int parse_mac(const char *s, uint8_t *mac) {
  unsigned v[6];
  if (sscanf(s, "%x:%x:%x:%x:%x:%x", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5]) != 6) return -1;
  for (int i = 0; i < 6; i++) mac[i] = (uint8_t)v[i];
  return 0;
}

/* The receiver checks the IPv4 header checksum (calibration, pitfall 7); UDP's may be 0. */
static uint16_t ip_checksum(const uint8_t *p, int n) {
  uint32_t s = 0;
  for (int i = 0; i < n; i += 2) s += (uint32_t)(p[i] << 8 | p[i + 1]);
  while (s >> 16) s = (s & 0xffff) + (s >> 16);
  return (uint16_t)~s;
}

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void die(const char *what) {
  perror(what);
  exit(2);
}

int main(int argc, char **argv) {
  if (argc < 9) {
    fprintf(stderr, "usage: %s IFNAME DST_MAC SRC_MAC SRC_IP DST_IP DPORT MAX_PACKETS MAX_SECONDS [CPU|-1] [PPS|0]\n", argv[0]);
    return 2;
  }
  uint8_t frame[FRAME_LEN] = {0};
  struct in_addr src, dst;
  if (parse_mac(argv[2], frame) || parse_mac(argv[3], frame + 6)) return fprintf(stderr, "bad MAC\n"), 2;
  if (!inet_aton(argv[4], &src) || !inet_aton(argv[5], &dst)) return fprintf(stderr, "bad IPv4 address\n"), 2;
  unsigned dport = (unsigned)atoi(argv[6]);
  unsigned long long max_packets = strtoull(argv[7], NULL, 10);
  double max_seconds = atof(argv[8]);
  int cpu = argc > 9 ? atoi(argv[9]) : -1;
  double pps = argc > 10 ? atof(argv[10]) : 0;

  frame[12] = 0x08; /* ethertype IPv4 */
  uint8_t *ip = frame + 14;
  ip[0] = 0x45;
  ip[3] = FRAME_LEN - 14; /* total length 50 */
  ip[5] = 1;
  ip[6] = 0x40; /* DF */
  ip[8] = 64;
  ip[9] = 17;
  memcpy(ip + 12, &src, 4);
  memcpy(ip + 16, &dst, 4);
  uint16_t c = ip_checksum(ip, 20);
  ip[10] = (uint8_t)(c >> 8);
  ip[11] = (uint8_t)c;
  uint8_t *udp = ip + 20;
  udp[0] = 1024 >> 8;
  udp[1] = 1024 & 255;
  udp[2] = (uint8_t)(dport >> 8);
  udp[3] = (uint8_t)dport;
  udp[5] = FRAME_LEN - 14 - 20; /* UDP length 30, checksum 0 */
  memset(udp + 8, 0x5a, FRAME_LEN - 42);

  if (cpu >= 0) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    if (sched_setaffinity(0, sizeof set, &set)) die("sched_setaffinity");
  }
  signal(SIGTERM, on_signal);
  signal(SIGINT, on_signal);

  /* Protocol 0: the socket only sends, it never gets a copy of received frames. */
  int fd = socket(AF_PACKET, SOCK_RAW, 0);
  if (fd < 0) die("socket(AF_PACKET)");
  int one = 1;
  setsockopt(fd, SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof one); /* veth has no qdisc anyway */
  struct sockaddr_ll ll = {.sll_family = AF_PACKET, .sll_ifindex = (int)if_nametoindex(argv[1])};
  if (!ll.sll_ifindex) die(argv[1]);
  if (bind(fd, (struct sockaddr *)&ll, sizeof ll)) die("bind");

  struct iovec iov = {.iov_base = frame, .iov_len = FRAME_LEN};
  struct mmsghdr msgs[BATCH];
  memset(msgs, 0, sizeof msgs);
  for (int i = 0; i < BATCH; i++) {
    msgs[i].msg_hdr.msg_iov = &iov;
    msgs[i].msg_hdr.msg_iovlen = 1;
  }
  /* Paced runs send small batches so that the rate stays even. */
  unsigned batch = BATCH;
  if (pps > 0 && pps < 64000) batch = pps / 1000 < 1 ? 1 : (unsigned)(pps / 1000);

  unsigned long long sent = 0, failed = 0;
  double start = now(), t = start;
  while (!stop && sent < max_packets && t - start < max_seconds) {
    unsigned n = max_packets - sent < batch ? (unsigned)(max_packets - sent) : batch;
    int r = sendmmsg(fd, msgs, n, 0);
    if (r > 0) sent += (unsigned)r;
    else if (r < 0 && errno != EINTR) failed++;
    t = now();
    if (pps > 0) {
      double ahead = (double)sent / pps - (t - start);
      if (ahead > 0) {
        struct timespec ts = {(time_t)ahead, (long)((ahead - (double)(time_t)ahead) * 1e9)};
        nanosleep(&ts, NULL);
        t = now();
      }
    }
  }
  printf("sent %llu failed %llu seconds %.3f\n", sent, failed, now() - start);
  return 0;
}
