#!/usr/bin/env python3
"""Writes server/auth/common-passwords.txt: often-used passwords (lower case, one a line).

The list is built offline from the patterns that dominate published password leaks: common
words and names (English and pinyin), keyboard walks, digit runs and repeats. server/auth embeds
it (go:embed) and refuses a password on it, also once leading and trailing digits and symbols are
cut ("Password2024!" is "password") and leetspeak is undone ("p@ssw0rd"). Run: python3 scripts/gen-common-passwords.py
"""
import itertools, os

WORDS = """
password passw0rd passwd pass secret letmein welcome admin administrator root toor user guest login
master qwerty dragon monkey football baseball basketball soccer hockey golf tennis sunshine princess
iloveyou love lovely loveme lover shadow superman batman spiderman starwars trustno1 whatever
freedom hello hello123 charlie michael jennifer jordan hunter ranger buster thomas robert daniel
jessica ashley amanda nicole michelle andrew joshua matthew anthony william david richard joseph
george summer winter spring autumn flower flowers orange banana apple cherry chocolate cookie
pepper ginger tigger killer pussy fuckyou fuckme asshole bitch cheese computer internet samsung
google yahoo facebook linkedin twitter iphone android nokia windows microsoft apple123 mustang
harley ferrari porsche corvette yamaha honda toyota nissan mercedes bmw audi jaguar liverpool
chelsea arsenal barcelona realmadrid juventus manchester united america canada london paris
china beijing shanghai shenzhen guangzhou hongkong taiwan japan tokyo korea seoul matrix hacker
access changeme change default test testing test123 demo sample example temp temporary company
business office system server network database oracle mysql postgres postgresql tessera
abc abcd abcde abcdef abc123 abcd1234 qwe qweqwe qwert qwer1234 asdf asdfgh asdfghjkl zxcv zxcvbn
zxcvbnm qazwsx 1qaz2wsx 1q2w3e 1q2w3e4r 1q2w3e4r5t zaq12wsx qweasd qweasdzxc asd123 zxc123
poiuytrewq mnbvcxz lkjhgfdsa 1qazxsw2 q1w2e3r4 a1b2c3 a1b2c3d4 aa123456 qq123456 aaaaaa
angel angels baby babygirl babyboy beauty blessed butterfly daddy mommy family friends forever
happy heaven jesus christ god faith hope peace smile sweet sweetie honey sugar candy cutie
master1 magic mickey minnie snoopy pokemon pikachu naruto goku mario zelda soccer1 player gamer
silver golden diamond crystal purple yellow green blue black white red pink rainbow
dolphin tiger lion eagle falcon phoenix wolf bear panda rabbit kitty kitten puppy doggie horse
thunder lightning storm ocean river mountain forest nature garden sunset moon star stars galaxy
qwertyuiop asdfghjk zxcvbnm1 password1 password12 password123 admin123 root123 welcome1
woaini woaini1314 wodemima mima mimamima aini aiwo nihao nihao123 zhongguo zhonghua beijing2008
wangwei zhangwei lili liming wangfang wangjing liuyang zhangjie lijun wangyang zhangyong
zhanglei liqiang wanglei lijie liuwei chenjie yangyang xiaoming xiaohong xiaoli xiaowei
laopo laogong baobao baobei qinqin tiantian dongdong fangfang feifei jingjing lingling
huanhuan xiaoxiao yuanyuan shuai meinv shuaige dabao xiaobao haoren aiwojiu jiayou kuaile
xingfu yongyuan tianshi mingtian taiyang yueliang xingxing zhuzhu maomao gougou
""".split()

out = set()
for w in WORDS:
    out.add(w)
    out.add(w + w)

# digit runs, repeats and common number passwords
digits = "01234567890"
for n in range(4, 13):
    for start in range(10):
        up = "".join(str((start + i) % 10) for i in range(n))
        out.add(up)
        out.add(up[::-1])
    for d in "0123456789":
        out.add(d * n)
for a, b in itertools.product("0123456789", repeat=2):
    for n in range(3, 7):
        out.add((a + b) * n)
for seq in ["123123", "123321", "112233", "11223344", "111222", "147258", "147258369", "159753",
            "159357", "741852963", "963852741", "5201314", "1314520", "521521", "520520", "168168",
            "666888", "888888", "123654", "123456789a", "a123456789", "123456a", "a123456",
            "123qwe", "qwe123", "123abc", "abc12345", "1a2b3c4d", "12qwaszx", "1qaz@wsx", "p@ssw0rd",
            "p@ssword", "passw0rd!", "pa$$word", "admin@123", "root@123", "test@123", "qwer!@#$"]:
    out.add(seq)
# keyboard rows and walks of every length from 6
for row in ["1234567890", "qwertyuiop", "asdfghjkl", "zxcvbnm", "1qaz2wsx3edc4rfv", "qazwsxedcrfv",
            "1q2w3e4r5t6y7u8i9o0p", "zaq1xsw2cde3", "!@#$%^&*()"]:
    for n in range(6, len(row) + 1):
        out.add(row[:n])
        out.add(row[:n][::-1])

out = sorted(x.lower() for x in out if len(x) >= 4)
path = os.path.join(os.path.dirname(__file__), "..", "server", "auth", "common-passwords.txt")
with open(path, "w") as f:
    f.write("\n".join(out) + "\n")
print(len(out), "passwords ->", os.path.normpath(path))
