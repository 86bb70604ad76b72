
/*
 * nacre: version.
 */

#ifndef _NACRE_H_INCLUDED_
#define _NACRE_H_INCLUDED_


#define NACRE_VERSION      "0.1.0"
#define NACRE_VER          "nacre/" NACRE_VERSION


#endif /* _NACRE_H_INCLUDED_ */
